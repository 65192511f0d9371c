import type { Migration } from './migration';

/** "Migration 61" in the SQL comment below is 0012 (its id before the renumbering). */
export const m0015: Migration = {
  id: 15,
  name: 'lightweight-batch-items',
  legacyId: 91,
  sql: `
      -- A lightweight-log webhook keeps no bodies: once its batch delivery has finished, the
      -- items it carried lose theirs too (the delivery's own payload is dropped by migration 61).
      ALTER TABLE batch_items ALTER COLUMN item DROP NOT NULL;
      CREATE FUNCTION batch_items_drop_lightweight_bodies() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE batch_items SET item = NULL WHERE delivery_id = NEW.id AND item IS NOT NULL;
        RETURN NULL;
      END $$;
      CREATE TRIGGER deliveries_lightweight_batch_items AFTER UPDATE OF finished_at ON deliveries
        FOR EACH ROW WHEN (NEW.lightweight AND NEW.group_key IS NOT NULL AND NEW.finished_at IS NOT NULL)
        EXECUTE FUNCTION batch_items_drop_lightweight_bodies();
      UPDATE batch_items b SET item = NULL FROM deliveries d
        WHERE b.delivery_id = d.id AND d.lightweight AND d.finished_at IS NOT NULL AND b.item IS NOT NULL;
    `,
};
