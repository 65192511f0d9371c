/** One schema migration: SQL run once, in its own transaction, recorded in `schema_migrations`. */
export interface Migration {
  /** Its place in the apply order (the file's number); recorded in `schema_migrations.id`. */
  id: number;
  /** Recorded beside the id; unique among migrations. */
  name: string;
  /**
   * The id it was recorded under before the migrations were renumbered into one file each
   * (they were numbered by feature range: 1–4, 10, 20, 30, 40, 41, 50, 60, 61, 80, 90–92).
   * Only migrations that shipped under the old numbering have one; new migrations leave it out.
   */
  legacyId?: number;
  sql: string;
}
