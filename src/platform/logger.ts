import pino from 'pino';

/** Paths pino blanks wherever they appear in a logged object. */
export const REDACTED_PATHS = [
  'password',
  'secret',
  'token',
  'apiKey',
  'clientSecret',
  'client_secret',
  'accessToken',
  'refreshToken',
  'signingSecret',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiKey',
  '*.clientSecret',
  '*.client_secret',
  '*.accessToken',
  '*.refreshToken',
  '*.signingSecret',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

export type Logger = pino.Logger;

export function createLogger(options: { level: string; name?: string }): Logger {
  return pino({
    level: options.level,
    base: { service: options.name ?? 'switchyard' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
