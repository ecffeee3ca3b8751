import pg from 'pg';

/** ragql's tables as its statements name them. */
export interface PostgresTables {
  documents: string;
  chunks: string;
  chunkTerms: string;
  tenantStats: string;
  meta: string;
  migrations: string;
}

/**
 * The tables in `schema`, named with it; without one, as the connection's search path finds them
 * (generation 0's, where every store before generations kept them). Named in every statement
 * rather than through the session's search path, which a pooler in transaction mode (PgBouncer)
 * would hand to another client's statements.
 */
export function tablesIn(schema: string | undefined): PostgresTables {
  const name = (table: string) => (schema === undefined ? table : `${pg.escapeIdentifier(schema)}.${table}`);
  return {
    documents: name('ragql_documents'),
    chunks: name('ragql_chunks'),
    chunkTerms: name('ragql_chunk_terms'),
    tenantStats: name('ragql_tenant_stats'),
    meta: name('ragql_meta'),
    migrations: name('ragql_migrations'),
  };
}

/** Every table, the last created first (foreign keys point at earlier ones). */
export function allTables(tables: PostgresTables): string[] {
  return [
    tables.chunkTerms,
    tables.chunks,
    tables.documents,
    tables.tenantStats,
    tables.meta,
    tables.migrations,
  ];
}
