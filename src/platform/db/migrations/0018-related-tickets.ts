import type { Migration } from './migration';

export const m0018: Migration = {
  id: 18,
  name: 'related-tickets',
  sql: `
      -- A stranger's mail naming a ticket (its [SY-n] or a Message-ID) opens a ticket of its own,
      -- linked to the one it named for an agent to merge (src/mail/threading.ts, chooseThread).
      ALTER TABLE tickets ADD COLUMN related_ticket_id uuid REFERENCES tickets(id) ON DELETE SET NULL;
      CREATE INDEX tickets_related_idx ON tickets (related_ticket_id) WHERE related_ticket_id IS NOT NULL;
    `,
};
