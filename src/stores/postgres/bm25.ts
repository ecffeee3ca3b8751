import { sha256Hex } from '../../hash.ts';
import type { ChunkToStore, Filter } from '../../ports.ts';
import { analyzeTerms } from '../../text/analysis.ts';
import { bm25, type ChunkTerms, chunkTerms } from '../bm25-terms.ts';
import { filterToSql } from './filter-sql.ts';
import type { SqlParameters } from './postgres-connection.ts';
import type { PostgresTables } from './tables.ts';

/**
 * BM25 in SQL, the same function SQLite's FTS5 computes for the embedded store (the parameters of
 * ../bm25-terms.ts). N, the average length and each term's chunk frequency n are the tenant's own,
 * as each tenant's SQLite file has its own: one tenant's documents never move another's scores. n
 * is counted from the postings in the query's own snapshot, so it cannot drift from them.
 */
const { k1, b, idfFloor } = bm25;

/**
 * The longest term stored as itself. A btree entry holds at most about 2.7 kB, and a term can be a
 * 40,000-letter word (a DNA sequence, a base64 blob): longer terms are stored, and looked up, by
 * their sha256, which no analysed term can equal (terms are letters and digits only).
 */
const longestStoredTerm = 200;

/** How a term is written in the postings, and so how a query looks it up. */
export function postingTerm(term: string): string {
  return term.length > longestStoredTerm ? `sha256:${sha256Hex(term)}` : term;
}

/** A chunk's postings: each term as the postings write it, with how often it occurs. */
export function chunkPostings(titleTerms: readonly string[], chunk: ChunkToStore): ChunkTerms {
  return chunkTerms(titleTerms, chunk, postingTerm);
}

/**
 * The statement ranking one tenant's chunks for `text` (keys and scores, best first, at most
 * `limit`), with the filter applied after the statistics: as in FTS5, the filter chooses among
 * the chunks, it does not change the collection they are scored in. Null when the text has no
 * terms to search.
 */
export function keywordQuery(
  tables: PostgresTables,
  tenant: string,
  text: string,
  filter: Filter,
  limit: number,
  parameters: SqlParameters,
): string | null {
  const terms = [...new Set(analyzeTerms(text).map(postingTerm))];
  if (terms.length === 0) return null;
  const tenantParameter = parameters.add(tenant);
  const termsParameter = parameters.add(terms);
  const filtered =
    filter.length === 0
      ? ''
      : `JOIN ${tables.documents} d ON d.tenant = ${tenantParameter} AND d.id = p.document_id AND (${filterToSql(filter, parameters)})`;
  // The statistics are one row, materialised once rather than looked up for every posting.
  return `
    WITH stats AS MATERIALIZED (
      SELECT chunk_count::float8 AS chunks, term_count::float8 / greatest(chunk_count, 1) AS average_length
      FROM ${tables.tenantStats} WHERE tenant = ${tenantParameter}
    ), postings AS (
      SELECT t.chunk_key, t.document_id, t.frequency, t.chunk_length,
        count(*) OVER (PARTITION BY t.term) AS chunk_frequency
      FROM ${tables.chunkTerms} t WHERE t.tenant = ${tenantParameter} AND t.term = ANY(${termsParameter}::text[])
    )
    SELECT p.chunk_key AS key, sum(
      greatest(ln((s.chunks - p.chunk_frequency + 0.5) / (p.chunk_frequency + 0.5)), ${idfFloor})
      * p.frequency * ${k1 + 1}
      / (p.frequency + ${k1} * (${1 - b} + ${b} * p.chunk_length / s.average_length))
    ) AS score
    FROM postings p
    ${filtered}
    CROSS JOIN stats s
    GROUP BY p.chunk_key
    ORDER BY score DESC, p.chunk_key
    LIMIT ${parameters.add(limit)}`;
}
