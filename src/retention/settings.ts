import type { Config } from '../platform/config';
import { RETENTION_LOGS, type RetentionLog } from './db';

/** How long each log is kept (ms; 0 keeps it forever) and how gently it is pruned. */
export interface RetentionSettings {
  keepMs: Record<RetentionLog, number>;
  intervalMs: number;
  batchSize: number;
  batchPauseMs: number;
}

export function retentionSettings(config: Config): RetentionSettings {
  return {
    keepMs: {
      attempt_bodies: config.RETENTION_ATTEMPT_BODIES,
      deliveries: config.RETENTION_DELIVERIES,
      events: config.RETENTION_EVENTS,
      inbound_requests: config.RETENTION_INBOUND_REQUESTS,
      incoming_webhooks: config.RETENTION_INCOMING_WEBHOOKS,
      mail_log: config.RETENTION_MAIL_LOG,
      activity_effects: config.RETENTION_ACTIVITY_EFFECTS,
    },
    intervalMs: config.RETENTION_INTERVAL,
    batchSize: config.RETENTION_BATCH_SIZE,
    batchPauseMs: config.RETENTION_BATCH_PAUSE,
  };
}

/** Each log with the instant before which its rows go; logs kept forever are left out. */
export function cutoffs(settings: RetentionSettings, now: Date): Array<{ log: RetentionLog; cutoff: Date }> {
  return RETENTION_LOGS.filter((log) => settings.keepMs[log] > 0).map((log) => ({
    log,
    cutoff: new Date(now.getTime() - settings.keepMs[log]),
  }));
}
