// The metrics of the one gRPC boundary: every service is added to the servers through
// `instrumented(server, metrics)`, which wraps each unary handler to time it and count its
// status code, and -- from the catalogue below -- the joins and signatures its answer stands for.
// Handlers stay as they are (coordinator/server/boundary.ts maps their errors to codes).
import * as grpc from '@grpc/grpc-js';
import type { CoordinatorMetrics } from './catalogue.ts';
import type { ServiceRegistrar } from '../server/boundary.ts';

/**
 * Methods that sign: on success the kinds they signed (from the answer; kinds come from the
 * certificate catalogue, a bounded set), on failure the kind counted with the error code.
 */
const SIGNING: Readonly<Record<string, { failed: string; signed(res: unknown): readonly string[] }>> = {
  Join: { failed: 'node-identity', signed: () => ['node-identity'] },
  RenewIdentity: { failed: 'node-identity', signed: () => ['node-identity'] },
  IssueCertificates: { failed: 'cluster', signed: (res) => ((res as { certificates?: { kind: string }[] }).certificates ?? []).map((c) => c.kind) },
  AdminKubeconfig: { failed: 'admin-kubeconfig', signed: () => ['admin-kubeconfig'] },
  IssueAdmin: { failed: 'admin-identity', signed: () => ['admin-identity'] },
  RenewAdmin: { failed: 'admin-identity', signed: () => ['admin-identity'] },
};

const codeName = (code: number): string => grpc.status[code] ?? 'UNKNOWN';

/** Records one answered call. */
export function observeCall(m: CoordinatorMetrics, method: string, code: number, seconds: number, res: unknown): void {
  const c = codeName(code);
  m.rpcDuration.observe({ method, code: c }, seconds);
  if (method === 'Join') m.joins.inc({ result: code === grpc.status.OK ? 'joined' : c });
  const s = SIGNING[method];
  if (!s) return;
  if (code === grpc.status.OK) for (const kind of s.signed(res)) m.signatures.inc({ kind, result: 'ok' });
  else m.signatures.inc({ kind: s.failed, result: c });
}

function wrapUnary(m: CoordinatorMetrics, method: string, h: grpc.handleUnaryCall<unknown, unknown>): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const started = performance.now();
    h(call, (err, value, trailer, flags) => {
      const code = err ? (typeof err.code === 'number' ? err.code : grpc.status.UNKNOWN) : grpc.status.OK;
      observeCall(m, method, code, (performance.now() - started) / 1000, value);
      callback(err, value, trailer, flags);
    });
  };
}

/** A registrar that adds services to `server` with their unary handlers instrumented. */
export function instrumented(server: ServiceRegistrar, m: CoordinatorMetrics | null): ServiceRegistrar {
  if (!m) return server;
  return {
    addService(def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation) {
      const wrapped: grpc.UntypedServiceImplementation = {};
      for (const [name, h] of Object.entries(impl)) {
        const d = def[name];
        wrapped[name] = d && !d.requestStream && !d.responseStream ? wrapUnary(m, name, h as grpc.handleUnaryCall<unknown, unknown>) : h;
      }
      server.addService(def, wrapped);
    },
  };
}
