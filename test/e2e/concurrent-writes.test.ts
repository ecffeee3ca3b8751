/**
 * Writes to one document that overlap in time, on both stores. Each scenario is made certain, not
 * likely: the stand-in holds the first ingestion's embedding request, and lets it go only once the
 * second write is certainly under way (its own embedding request arrived, or ragql reports it
 * waiting for the document). Then the second sees what the first wrote (UPDATED or UNCHANGED,
 * never a second CREATED), the store holds exactly what the write reported last says, and a write
 * that fails or whose client hangs up lets the next one in. Other documents and other tenants
 * never wait.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import {
  DeleteDocumentDocument,
  DocumentDocument,
  type DocumentInput,
  IngestDocumentsDocument,
  SearchDocument,
} from '../generated/graphql.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import type { EmbeddingsHoldOutcome } from '../support/openai-standin.ts';
import { withAuthentication, withStandinEmbeddings } from '../support/ragql-environment.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';
import { describeWithWeaviate, uniqueCollectionName } from '../support/weaviate.ts';

const acme = createApiKey();
const globex = createApiKey();

/** A document of `paragraphs` paragraphs, each of them a chunk (see RAGQL_CHUNK_SIZE below), all naming `word`. */
function documentAbout(id: string, word: string, paragraphs: number): DocumentInput {
  return {
    id,
    content: Array.from(
      { length: paragraphs },
      (_, index) => `Paragraph ${index} tells of the ${word} and nothing but the ${word}, at length.`,
    ).join('\n\n'),
  };
}

/** One embedding request the stand-in holds: the first whose texts name the word. */
interface Hold {
  word: string;
  arrived: PromiseWithResolvers<void>;
  outcome: PromiseWithResolvers<EmbeddingsHoldOutcome>;
  taken: boolean;
}

/** The embedding requests the stand-in holds, and every request's texts as they arrive. */
class EmbeddingHolds {
  private readonly holds: Hold[] = [];
  private readonly listeners: { word: string; arrived: PromiseWithResolvers<void> }[] = [];
  readonly arrivals: string[][] = [];

  /** Holds the next request that names the word until `release`. */
  hold(word: string): { arrived: Promise<void>; release(outcome?: EmbeddingsHoldOutcome): void } {
    const hold: Hold = {
      word,
      arrived: Promise.withResolvers<void>(),
      outcome: Promise.withResolvers<EmbeddingsHoldOutcome>(),
      taken: false,
    };
    this.holds.push(hold);
    return { arrived: hold.arrived.promise, release: (outcome) => hold.outcome.resolve(outcome) };
  }

  /** Resolves when a request naming the word arrives (a held one or not). */
  arrivalOf(word: string): Promise<void> {
    const arrived = Promise.withResolvers<void>();
    if (this.arrivals.some((texts) => names(texts, word))) arrived.resolve();
    else this.listeners.push({ word, arrived });
    return arrived.promise;
  }

  requestsNaming(word: string): number {
    return this.arrivals.filter((texts) => names(texts, word)).length;
  }

  /** What the stand-in awaits before it answers a request. */
  readonly arrive = (texts: readonly string[]): Promise<EmbeddingsHoldOutcome> => {
    this.arrivals.push([...texts]);
    for (const listener of this.listeners) if (names(texts, listener.word)) listener.arrived.resolve();
    const hold = this.holds.find((candidate) => !candidate.taken && names(texts, candidate.word));
    if (!hold) return Promise.resolve(undefined);
    hold.taken = true;
    hold.arrived.resolve();
    return hold.outcome.promise;
  };

  /** Lets every request still held go, so that nothing hangs after a test. */
  releaseAll(): void {
    for (const hold of this.holds) hold.outcome.resolve(undefined);
  }
}

function names(texts: readonly string[], word: string): boolean {
  return texts.some((text) => text.includes(word));
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function describeConcurrentWrites(storeName: string, storeEnvironment: () => Record<string, string>) {
  describe(`concurrent writes to one document on the ${storeName} store`, () => {
    const holds = new EmbeddingHolds();
    const standin = useOpenAIStandin({ dimensions: 16, beforeEmbeddings: holds.arrive });
    const asAcme = () => graphqlClient(ragql.server.graphqlUrl, acme.key);
    const asGlobex = () => graphqlClient(ragql.server.graphqlUrl, globex.key);

    /** An ingestion as acme whose HTTP request the test can abort, as a client that hangs up. */
    const abortableIngestion = (documents: DocumentInput[]) => {
      const controller = new AbortController();
      const response = fetch(ragql.server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.key}` },
        body: JSON.stringify({
          query:
            'mutation ($documents: [DocumentInput!]!) { ingestDocuments(documents: $documents) { created } }',
          variables: { documents },
        }),
        signal: controller.signal,
      });
      response.catch(() => undefined);
      return { response, abort: () => controller.abort() };
    };

    /** Writes that ragql reports waiting for a document another write holds (its /metrics gauge). */
    const waitingWrites = async (): Promise<number> => {
      const text = await (await fetch(new URL('/metrics', ragql.server.graphqlUrl))).text();
      const line = text
        .split('\n')
        .find((candidate) => candidate.startsWith('ragql_document_writes_waiting '));
      return line ? Number(line.split(' ')[1]) : 0;
    };

    /**
     * Resolves once a second write is certainly under way while the first is held: its embedding
     * request naming `word` arrived (it did not wait), or ragql reports a write waiting.
     */
    const secondWriteUnderway = async (word: string | null, settled?: Promise<unknown>) => {
      let done = false;
      const waiting = (async () => {
        while (!done && (await waitingWrites()) < 1) await new Promise((resolve) => setTimeout(resolve, 10));
      })();
      await Promise.race([waiting, ...(word ? [holds.arrivalOf(word)] : []), ...(settled ? [settled] : [])]);
      done = true;
      await waiting.catch(() => undefined);
    };

    /** The stored document is exactly `expected`: its content's hash, its chunks in order, tiling it whole. */
    const expectStoredExactly = async (
      expected: DocumentInput,
      reportedChunkCount: number,
      foreignWord: string,
    ) => {
      const { document } = dataOf(await asAcme()(DocumentDocument, { id: expected.id ?? '' }));
      expect(document?.contentHash).toBe(sha256(expected.content));
      expect(document?.chunkCount).toBe(reportedChunkCount);
      const chunks = document?.chunks ?? [];
      expect(chunks.map((chunk) => chunk.index)).toEqual([...Array(reportedChunkCount).keys()]);
      for (const chunk of chunks) {
        expect(chunk.content).toBe(expected.content.slice(chunk.startOffset, chunk.endOffset));
      }
      expect(chunks.at(-1)?.endOffset).toBe(expected.content.length);
      // No chunk of the replaced version is left where search can find it.
      const { search } = dataOf(await asAcme()(SearchDocument, { query: foreignWord, alpha: 0 }));
      expect(search.hits).toEqual([]);
    };

    const ragql = useRagql((dataDir) => ({
      ...storeEnvironment(),
      LOG_LEVEL: 'info',
      ...withAuthentication(dataDir, {
        apiKeys: [
          { tenant: 'acme', tier: 'pro', hash: acme.hash },
          { tenant: 'globex', tier: 'pro', hash: globex.hash },
        ],
      }),
      ...withStandinEmbeddings(standin, 16),
      OPENAI_API_KEY: 'sk-concurrent-writes',
      // Every ingestion's texts reach the stand-in, where the test can hold them.
      RAGQL_EMBEDDING_CACHE: 'off',
      // Each paragraph of documentAbout is a chunk of its own.
      RAGQL_CHUNK_SIZE: '24',
      RAGQL_CHUNK_OVERLAP: '0',
    }));
    // Registered after the server's, so it runs before the server stops (vitest runs after-hooks in reverse).
    afterAll(() => holds.releaseAll());

    it('reports the second of two ingestions of one new id UPDATED, and stores it whole', async () => {
      const first = documentAbout('race', 'albatross', 3);
      const second = documentAbout('race', 'barracuda', 2);
      const held = holds.hold('albatross');
      const firstDone = asAcme()(IngestDocumentsDocument, { documents: [first] });
      await held.arrived;
      const secondDone = asAcme()(IngestDocumentsDocument, { documents: [second] });
      await secondWriteUnderway('barracuda');
      held.release();

      const [firstReport, secondReport] = (await Promise.all([firstDone, secondDone])).map(
        (response) => dataOf(response).ingestDocuments.documents[0],
      );
      expect(firstReport?.status).toBe('CREATED');
      expect(secondReport?.status).toBe('UPDATED');
      await expectStoredExactly(second, secondReport?.chunkCount ?? -1, 'albatross');
    });

    it('reports the second of two identical ingestions of one new id UNCHANGED, and embeds it once', async () => {
      const document = documentAbout('twins', 'cormorant', 2);
      const held = holds.hold('cormorant');
      const firstDone = asAcme()(IngestDocumentsDocument, { documents: [document] });
      await held.arrived;
      const secondDone = asAcme()(IngestDocumentsDocument, { documents: [document] });
      await secondWriteUnderway('cormorant');
      held.release();

      const [firstReport, secondReport] = (await Promise.all([firstDone, secondDone])).map(
        (response) => dataOf(response).ingestDocuments,
      );
      expect(firstReport?.documents[0]?.status).toBe('CREATED');
      expect(secondReport?.documents[0]?.status).toBe('UNCHANGED');
      expect(secondReport?.embeddedChunks).toBe(0);
      expect(holds.requestsNaming('cormorant')).toBe(1);
      await expectStoredExactly(document, firstReport?.documents[0]?.chunkCount ?? -1, 'albatross');
    });

    it('refuses a batch that names one id twice, storing nothing of it', async () => {
      const response = await asAcme()(IngestDocumentsDocument, {
        documents: [documentAbout('double', 'dolphin', 1), documentAbout('double', 'eider', 1)],
      });
      expect(response.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0]?.message).toContain('documents[1]: id "double" appears more than once');
      expect(dataOf(await asAcme()(DocumentDocument, { id: 'double' })).document).toBeNull();
    });

    it('lets other documents, and the same id of another tenant, be written meanwhile', async () => {
      const held = holds.hold('flamingo');
      const heldDone = asAcme()(IngestDocumentsDocument, {
        documents: [documentAbout('shared', 'flamingo', 1)],
      });
      await held.arrived;
      try {
        const other = dataOf(
          await asAcme()(IngestDocumentsDocument, { documents: [documentAbout('other', 'gannet', 1)] }),
        );
        expect(other.ingestDocuments.created).toBe(1);
        const otherTenant = dataOf(
          await asGlobex()(IngestDocumentsDocument, { documents: [documentAbout('shared', 'heron', 1)] }),
        );
        expect(otherTenant.ingestDocuments.created).toBe(1);
        expect(await waitingWrites()).toBe(0);
      } finally {
        held.release();
      }
      expect(dataOf(await heldDone).ingestDocuments.created).toBe(1);
    });

    it('lets the next ingestion in after one fails', async () => {
      const held = holds.hold('ibis');
      const failingDone = asAcme()(IngestDocumentsDocument, {
        documents: [documentAbout('after-failure', 'ibis', 2)],
      });
      await held.arrived;
      const next = documentAbout('after-failure', 'jacana', 1);
      const nextDone = asAcme()(IngestDocumentsDocument, { documents: [next] });
      await secondWriteUnderway('jacana');
      held.release({ failWith: 400 });

      expect((await failingDone).errors?.[0]?.extensions?.code).toBe('UPSTREAM_FAILED');
      const nextReport = dataOf(await nextDone).ingestDocuments.documents[0];
      expect(nextReport?.status).toBe('CREATED');
      await expectStoredExactly(next, nextReport?.chunkCount ?? -1, 'ibis');
    });

    it('lets the next ingestion in when the client of the one holding the document hangs up', async () => {
      // Never released by the test: only the hang-up can end the held ingestion.
      const held = holds.hold('kestrel');
      const abandoned = abortableIngestion([documentAbout('hang-up', 'kestrel', 2)]);
      await held.arrived;
      const next = documentAbout('hang-up', 'lapwing', 1);
      const nextDone = asAcme()(IngestDocumentsDocument, { documents: [next] });
      await secondWriteUnderway('lapwing');
      abandoned.abort();

      const nextReport = dataOf(await nextDone).ingestDocuments.documents[0];
      expect(nextReport?.status).toBe('CREATED');
      await expectStoredExactly(next, nextReport?.chunkCount ?? -1, 'kestrel');
    });

    it('drops a waiting ingestion whose client hangs up, so that it never writes', async () => {
      const held = holds.hold('merganser');
      const first = documentAbout('left-queue', 'merganser', 2);
      const firstDone = asAcme()(IngestDocumentsDocument, { documents: [first] });
      await held.arrived;
      const abandoned = abortableIngestion([documentAbout('left-queue', 'nightjar', 1)]);
      await secondWriteUnderway('nightjar');
      const logsBefore = ragql.logs.length;
      abandoned.abort();
      // It has left the queue while the first still holds the document.
      await expect.poll(waitingWrites).toBe(0);
      // A client that left is no defect: logged as such, not as an unexpected error.
      await expect
        .poll(() => ragql.logs.slice(logsBefore).map((line) => line.msg))
        .toContain('The client went away before its operation ended.');
      expect(ragql.logs.slice(logsBefore).filter((line) => Number(line.level) >= 50)).toEqual([]);
      held.release();

      const firstReport = dataOf(await firstDone).ingestDocuments.documents[0];
      expect(firstReport?.status).toBe('CREATED');
      await expectStoredExactly(first, firstReport?.chunkCount ?? -1, 'nightjar');
      expect(holds.requestsNaming('nightjar')).toBe(0);
    });

    it('deletes a document only after an ingestion that reported it finishes, so the deletion is the last word', async () => {
      const kept = documentAbout('kept', 'osprey', 1);
      dataOf(await asAcme()(IngestDocumentsDocument, { documents: [kept] }));
      // One batch: `kept` again (UNCHANGED), and a new document whose embedding is held.
      const held = holds.hold('pelican');
      const ingestionDone = asAcme()(IngestDocumentsDocument, {
        documents: [kept, documentAbout('beside-kept', 'pelican', 1)],
      });
      await held.arrived;
      let deletionFinished = false;
      const deletionDone = asAcme()(DeleteDocumentDocument, { id: 'kept' }).finally(() => {
        deletionFinished = true;
      });
      await secondWriteUnderway(null, deletionDone);
      // Had it finished now, the ingestion would report `kept` UNCHANGED after it was reported gone.
      expect(deletionFinished).toBe(false);
      held.release();

      const ingestion = dataOf(await ingestionDone).ingestDocuments.documents;
      expect(ingestion.map((document) => document.status)).toEqual(['UNCHANGED', 'CREATED']);
      expect(dataOf(await deletionDone).deleteDocument.deleted).toBe(true);
      expect(dataOf(await asAcme()(DocumentDocument, { id: 'kept' })).document).toBeNull();
      const { search } = dataOf(await asAcme()(SearchDocument, { query: 'osprey', alpha: 0 }));
      expect(search.hits).toEqual([]);
    });
  });
}

describeConcurrentWrites('embedded', () => ({}));

describeWithWeaviate('concurrent writes on Weaviate', (endpoint) => {
  describeConcurrentWrites('Weaviate', () => ({
    RAGQL_STORE: 'weaviate',
    WEAVIATE_URL: endpoint.httpUrl,
    WEAVIATE_GRPC_URL: endpoint.grpcAddress,
    RAGQL_WEAVIATE_COLLECTION_PREFIX: uniqueCollectionName('Concurrent'),
  }));
});
