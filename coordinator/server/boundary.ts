// The gRPC boundary of the coordinator: every handler goes through `unaryHandler`, which turns
// a returned value into a response and a thrown MusterError into its status code (via
// shared/wire/status.ts). Unexpected errors are logged in full here and sent as INTERNAL
// without details.
import type * as grpc from '@grpc/grpc-js';
import { MusterError } from '../../shared/errors/index.ts';
import { toServiceError } from '../../shared/wire/status.ts';
import type { Logger } from '../../shared/log/logger.ts';

/** What a service's addToServer needs of a server (a grpc.Server, or coordinator/metrics/rpc.ts's instrumented one). */
export type ServiceRegistrar = Pick<grpc.Server, 'addService'>;

export function unaryHandler<Req, Res>(
  log: Logger,
  method: string,
  fn: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call).then(
      (res) => callback(null, res),
      (err: unknown) => {
        if (err instanceof MusterError) log.debug(`${method} refused: ${err.message}`, { reason: err.reason });
        else log.error(`${method} failed: ${(err as Error)?.stack ?? err}`);
        callback(toServiceError(err) as grpc.ServiceError);
      },
    );
  };
}
