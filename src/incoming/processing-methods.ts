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
