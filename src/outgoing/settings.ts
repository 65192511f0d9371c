import type { Config } from '../platform/config';
import type { DestinationPolicy } from '../platform/http/safe-request';

/** The outgoing-webhook settings, read once from the configuration by the API and the worker alike. */
export interface OutgoingSettings {
  retryScheduleMs: number[];
  /** One HTTP request's timeout. */
  requestTimeoutMs: number;
  retryAfterMaxMs: number;
  logMaxBytes: number;
  secretGraceSeconds: number;
  /** A webhook's lane with nothing queued or due ends after this long. */
  laneIdleSeconds: number;
  /** Rounds before a lane continues-as-new even if the server has not suggested it. */
  laneMaxRoundsPerRun: number;
  policy: DestinationPolicy;
}

export function outgoingSettings(config: Config): OutgoingSettings {
  return {
    retryScheduleMs: config.DELIVERY_RETRY_SCHEDULE,
    requestTimeoutMs: config.OUTBOUND_TIMEOUT_MS,
    retryAfterMaxMs: config.DELIVERY_RETRY_AFTER_MAX_SECONDS * 1000,
    logMaxBytes: config.DELIVERY_LOG_MAX_BYTES,
    secretGraceSeconds: config.WEBHOOK_SECRET_GRACE_SECONDS,
    laneIdleSeconds: config.LANE_IDLE_SECONDS,
    laneMaxRoundsPerRun: config.LANE_MAX_ROUNDS_PER_RUN,
    policy: { allowedHosts: config.OUTBOUND_ALLOWED_HOSTS },
  };
}
