import type { Migration } from './migration';

export const m0016: Migration = {
  id: 16,
  name: 'statement-abort',
  legacyId: 92,
  sql: `
      -- Lets one statement undo all it wrote: a provider webhook's one-statement intake
      -- (src/incoming/provider-intake-statement.ts) calls it when only some of its events were new.
      CREATE FUNCTION switchyard_abort_statement(reason text) RETURNS boolean LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION USING ERRCODE = 'SY001', MESSAGE = reason;
      END $$;
    `,
};
