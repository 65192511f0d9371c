import type { Config } from '../config';
import type { DestinationPolicy } from '../http/safe-request';

/** The outgoing-webhook settings, read once from the configuration by the API and the worker alike. */
export interface OutgoingSettings {
  retryScheduleMs: number[];
  /** One HTTP request's timeout. */
  requestTimeoutMs: number;
  retryAfterMaxMs: number;
  logMaxBytes: number;
  secretGraceSeconds: number;
  batchIdleSeconds: number;
  batchMaxFlushesPerRun: number;
  policy: DestinationPolicy;
}

export function outgoingSettings(config: Config): OutgoingSettings {
  return {
    retryScheduleMs: config.DELIVERY_RETRY_SCHEDULE,
    requestTimeoutMs: config.OUTBOUND_TIMEOUT_MS,
    retryAfterMaxMs: config.DELIVERY_RETRY_AFTER_MAX_SECONDS * 1000,
    logMaxBytes: config.DELIVERY_LOG_MAX_BYTES,
    secretGraceSeconds: config.WEBHOOK_SECRET_GRACE_SECONDS,
    batchIdleSeconds: config.BATCH_IDLE_SECONDS,
    batchMaxFlushesPerRun: config.BATCH_MAX_FLUSHES_PER_RUN,
    policy: { allowedHosts: config.OUTBOUND_ALLOWED_HOSTS },
  };
}
