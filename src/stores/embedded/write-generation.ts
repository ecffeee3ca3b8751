import type Database from 'better-sqlite3';

/**
 * How many writes the file has committed, counted in its `meta` table by every write (whichever
 * process or thread made it). A reader that knows the generation its in-memory state reflects can
 * tell its own writer's commit (one more than it knew, with the changes in hand) from anyone
 * else's, which SQLite's `data_version` cannot: every other connection's commit changes that.
 */
export function readGeneration(database: Database.Database): number {
  const stored = database.prepare("SELECT value FROM meta WHERE key = 'generation'").pluck().get() as
    | string
    | undefined;
  return stored === undefined ? 0 : Number(stored);
}

/** Counts one more write; call it inside the write's transaction. Returns the new generation. */
export function advanceGeneration(database: Database.Database): number {
  const generation = readGeneration(database) + 1;
  database
    .prepare(
      "INSERT INTO meta (key, value) VALUES ('generation', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .run(String(generation));
  return generation;
}
