import type { Migration } from './migration';

export const m0019: Migration = {
  id: 19,
  name: 'event-trace-context',
  sql: `
      -- The trace an event was emitted in (W3C traceparent), when tracing was on: the lane that
      -- sends its deliveries works for many events at once, and joins each attempt to its event's trace.
      ALTER TABLE events ADD COLUMN trace_parent text;
    `,
};
