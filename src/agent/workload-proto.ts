/**
 * The SPIFFE Workload API's gRPC definitions (proto/workload.proto, proto/health.proto), loaded
 * once for the agent's server and for the client library, and the names both sides share.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The metadata every Workload API call must carry. */
export const SECURITY_HEADER = 'workload.spiffe.io';

/** The environment variable naming the Workload API endpoint (`unix:///path` or `tcp://ip:port`). */
export const ENDPOINT_ENV = 'SPIFFE_ENDPOINT_SOCKET';

const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url));

export interface WorkloadProto {
  readonly SpiffeWorkloadAPI: grpc.ServiceClientConstructor;
  readonly grpc: { readonly health: { readonly v1: { readonly Health: grpc.ServiceClientConstructor } } };
}

let loaded: WorkloadProto | undefined;

/** The services (loaded on first use; snake_case field names as in the proto, bytes as Buffers). */
export function workloadProto(): WorkloadProto {
  if (loaded !== undefined) return loaded;
  const defs = protoLoader.loadSync([`${PROTO_DIR}workload.proto`, `${PROTO_DIR}health.proto`], { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  loaded = grpc.loadPackageDefinition(defs) as unknown as WorkloadProto;
  return loaded;
}
