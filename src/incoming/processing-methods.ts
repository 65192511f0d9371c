import type { Config } from '../platform/config';

/**
 * Seed 004's processing methods. `default` processes once; the "incoming webhook service"
 * methods defer to the service and retry automatically two more times.
 */
export const PROCESSING_METHODS = ['default', 'service_immediate', 'service_delayed'] as const;
export type ProcessingMethod = (typeof PROCESSING_METHODS)[number];

export const ATTEMPTS_BY_METHOD: Record<ProcessingMethod, number> = {
  default: 1,
  service_immediate: 3,
  service_delayed: 3,
};

export const isDeferred = (method: ProcessingMethod) => method !== 'default';

/** Settings for the processing workflows intake starts, read once from the configuration. */
export interface InboundProcessingSettings {
  activityTimeoutSeconds: number;
  retryInitialSeconds: number;
  batchWaitSeconds: number;
  batchMaxItems: number;
  batchIdleSeconds: number;
  batchMaxFlushesPerRun: number;
}

export function inboundProcessingSettings(config: Config): InboundProcessingSettings {
  return {
    activityTimeoutSeconds: config.INBOUND_ACTIVITY_TIMEOUT_SECONDS,
    retryInitialSeconds: config.INBOUND_RETRY_INITIAL_SECONDS,
    batchWaitSeconds: config.INBOUND_BATCH_WAIT_SECONDS,
    batchMaxItems: config.INBOUND_BATCH_MAX_ITEMS,
    batchIdleSeconds: config.INBOUND_BATCH_IDLE_SECONDS,
    batchMaxFlushesPerRun: config.INBOUND_BATCH_MAX_FLUSHES_PER_RUN,
  };
}
