// The muster.v1 package, loaded from the descriptor that packaging/build.ts compiled from
// proto/muster/v1/muster.proto. Nothing is read from disk at run time.
import * as grpc from '@grpc/grpc-js';
import { fromJSON, type Options } from '@grpc/proto-loader';
import { MUSTER_V1_DESCRIPTOR } from '../../proto/gen/descriptor.ts';
import type { ProtoGrpcType } from '../../proto/gen/types/muster.ts';

export const LOADER_OPTIONS: Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

const packageDefinition = fromJSON(MUSTER_V1_DESCRIPTOR as Parameters<typeof fromJSON>[0], LOADER_OPTIONS);
export const musterV1 = (grpc.loadPackageDefinition(packageDefinition) as unknown as ProtoGrpcType).muster.v1;

export type { AgentClient } from '../../proto/gen/types/muster/v1/Agent.ts';
export type { AdminClient } from '../../proto/gen/types/muster/v1/Admin.ts';
export type { BootstrapClient } from '../../proto/gen/types/muster/v1/Bootstrap.ts';
