import fs from 'node:fs';
import { Connection, Client, type ConnectionOptions } from '@temporalio/client';
import { tracingClientInterceptors } from './tracing';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { Config } from '../config';

type Tls = NonNullable<ConnectionOptions['tls']>;

function tlsOptions(config: Config): Tls | undefined {
  if (!config.TEMPORAL_TLS && !config.TEMPORAL_TLS_CERT_PATH && !config.TEMPORAL_API_KEY) return undefined;
  const tls: Tls = {};
  if (config.TEMPORAL_TLS_SERVER_NAME) tls.serverNameOverride = config.TEMPORAL_TLS_SERVER_NAME;
  if (config.TEMPORAL_TLS_CA_PATH) tls.serverRootCACertificate = fs.readFileSync(config.TEMPORAL_TLS_CA_PATH);
  if (config.TEMPORAL_TLS_CERT_PATH && config.TEMPORAL_TLS_KEY_PATH) {
    tls.clientCertPair = {
      crt: fs.readFileSync(config.TEMPORAL_TLS_CERT_PATH),
      key: fs.readFileSync(config.TEMPORAL_TLS_KEY_PATH),
    };
  }
  return tls;
}

/** Options shared by the client connection (API) and the native connection (worker). */
export function connectionOptions(config: Config): ConnectionOptions & NativeConnectionOptions {
  const tls = tlsOptions(config);
  return {
    address: config.TEMPORAL_ADDRESS,
    ...(tls ? { tls } : {}),
    ...(config.TEMPORAL_API_KEY ? { apiKey: config.TEMPORAL_API_KEY } : {}),
  };
}

export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ ...connectionOptions(config), connectTimeout: '10s' });
  const interceptors = tracingClientInterceptors();
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, ...(interceptors ? { interceptors } : {}) });
}
