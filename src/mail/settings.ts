import type { Config } from '../platform/config';
import type { OutboundHttp } from './graph/safe-transport';
import { microsoftPins } from './graph/authority';

/** Mailbox behaviour taken from the configuration, shared by the API and the worker. */
export interface MailSettings {
  publicBaseUrl: string;
  subscriptionMinutes: number;
  renewBeforeMs: number;
  retryDelayMs: number;
  sweepIntervalMs: number;
  maxCyclesPerRun: number;
  scanIntervalSeconds: number;
  scanMinIntervalSeconds: number;
  graphConcurrency: number;
  notifyCooldownMs: number;
  processAttempts: number;
  retryInitialSeconds: number;
  schedulerRetries: number;
  schedulerRetryBaseMs: number;
  /** MSAL and Graph calls go through the outbound guard with these settings. */
  outbound: OutboundHttp;
  /** Email attachments: largest stored, total stored per email, total sent with a reply. */
  attachmentMaxBytes: number;
  attachmentsMaxBytesPerEmail: number;
  replyAttachmentsMaxBytes: number;
}

export function mailSettings(config: Config): MailSettings {
  return {
    publicBaseUrl: config.publicBaseUrl.replace(/\/+$/, ''),
    subscriptionMinutes: config.MAILBOX_SUBSCRIPTION_MINUTES,
    renewBeforeMs: config.MAILBOX_RENEW_BEFORE,
    retryDelayMs: config.MAILBOX_RETRY_DELAY,
    sweepIntervalMs: config.MAILBOX_SWEEP_INTERVAL,
    maxCyclesPerRun: config.MAILBOX_MAX_CYCLES_PER_RUN,
    scanIntervalSeconds: config.MAILBOX_SCAN_INTERVAL_SECONDS,
    scanMinIntervalSeconds: config.MAILBOX_SCAN_MIN_INTERVAL_SECONDS,
    graphConcurrency: config.MAILBOX_GRAPH_CONCURRENCY,
    notifyCooldownMs: config.MAILBOX_ERROR_NOTIFY_COOLDOWN,
    processAttempts: config.MAIL_PROCESS_ATTEMPTS,
    retryInitialSeconds: config.MAIL_RETRY_INITIAL_SECONDS,
    schedulerRetries: config.MAIL_SCHEDULER_RETRIES,
    schedulerRetryBaseMs: config.MAIL_SCHEDULER_RETRY_BASE,
    outbound: {
      policy: { allowedHosts: config.OUTBOUND_ALLOWED_HOSTS, pinned: microsoftPins(config.PROVIDER_CUSTOM_HOSTS) },
      timeoutMs: config.OUTBOUND_TIMEOUT_MS,
    },
    attachmentMaxBytes: config.MAIL_ATTACHMENT_MAX_BYTES,
    attachmentsMaxBytesPerEmail: config.MAIL_ATTACHMENTS_MAX_BYTES_PER_EMAIL,
    replyAttachmentsMaxBytes: config.REPLY_ATTACHMENTS_MAX_BYTES,
  };
}

/** The endpoints Graph calls for a mailbox. */
export function notificationUrls(settings: Pick<MailSettings, 'publicBaseUrl'>, mailboxId: string) {
  const base = `${settings.publicBaseUrl}/hooks/graph/${mailboxId}`;
  return { notificationUrl: `${base}/notifications`, lifecycleNotificationUrl: `${base}/lifecycle` };
}

/** Where the identity platform sends the delegated sign-in back to. */
export function redirectUri(settings: Pick<MailSettings, 'publicBaseUrl'>): string {
  return `${settings.publicBaseUrl}/azure/auth`;
}
