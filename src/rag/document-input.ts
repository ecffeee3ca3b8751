import { randomUUID } from 'node:crypto';
import { badInput, type RagqlError } from '../errors.ts';
import type { Metadata } from '../ports.ts';
import { type DocumentLayout, layoutProblems } from './document-layout.ts';
import { metadataProblems } from './metadata.ts';

/** A document as a client sends it for ingestion. */
export interface DocumentInput {
  id?: string | null;
  title?: string | null;
  content: string;
  source?: string | null;
  metadata?: unknown;
  /** Where the pages and sections of the file it was parsed from begin; set by ragql's file parsers. */
  layout?: DocumentLayout;
}

export interface ValidDocument {
  id: string;
  title: string | null;
  content: string;
  source: string | null;
  metadata: Metadata;
  layout?: DocumentLayout;
}

export interface IngestLimits {
  /** Largest content, in UTF-8 bytes. @default 5 MiB */
  maxDocumentBytes: number;
  /** Most documents in one ingestion call. @default 1000 */
  maxDocumentsPerRequest: number;
}

/** The longest document id; a page's id is its URL, so also the longest URL ragql ingests. */
export const maxIdLength = 256;
const maxTitleLength = 1000;
const maxSourceLength = 2048;
const controlCharacters = /\p{Cc}/u;

/** How a problem names the document it is about: its position in the call, unless told otherwise. */
export type DocumentLabel = (position: number) => string;

const byPosition: DocumentLabel = (position) => `documents[${position}]`;

/**
 * Checks a whole batch before anything is stored, and reports every problem at once (by position,
 * or by the file each document came from), so a client fixes its input in one round trip and a
 * bad batch stores nothing.
 */
export function validateDocuments(
  inputs: readonly DocumentInput[],
  limits: IngestLimits,
  labelOf: DocumentLabel = byPosition,
): ValidDocument[] {
  if (inputs.length > limits.maxDocumentsPerRequest) {
    throw badInput(
      `Too many documents in one call: ${inputs.length}; the limit is ${limits.maxDocumentsPerRequest}. Send them in smaller batches.`,
    );
  }
  const problems: string[] = [];
  const seenIds = new Set<string>();
  const documents = inputs.map((input, position) => {
    const id = input.id ?? randomUUID();
    const documentProblems = problemsOf(input, id, limits);
    if (seenIds.has(id)) documentProblems.push(`id "${id}" appears more than once in this call`);
    seenIds.add(id);
    problems.push(...documentProblems.map((problem) => `${labelOf(position)}: ${problem}`));
    return {
      id,
      title: input.title ?? null,
      content: input.content,
      source: input.source ?? null,
      metadata: (input.metadata ?? {}) as Metadata,
      ...(input.layout && { layout: input.layout }),
    };
  });
  if (problems.length > 0) throw nothingIngested(problems);
  return documents;
}

/**
 * The refusal of a whole batch (documents, uploaded files, URLs): the first problems in the
 * message, every one of them in `problems`, each naming what it is about.
 */
export function nothingIngested(problems: readonly string[]): RagqlError {
  return badInput(`Nothing was ingested: ${problems.slice(0, 20).join('; ')}`, { problems });
}

function problemsOf(input: DocumentInput, id: string, limits: IngestLimits): string[] {
  const problems: string[] = [];
  if (id.trim() === '' || id.length > maxIdLength || controlCharacters.test(id) || !id.isWellFormed()) {
    problems.push(`id must be 1 to ${maxIdLength} printable characters`);
  }
  if (typeof input.content !== 'string' || input.content.trim() === '') {
    problems.push('content is empty');
  } else if (!input.content.isWellFormed()) {
    problems.push('content is not well-formed Unicode (it has a lone surrogate)');
  } else if (input.content.includes('\u0000')) {
    // No text holds one; a client that sent a PDF's or an image's bytes as a string does.
    problems.push('content holds a NUL character: binary data, not text');
  } else {
    const bytes = Buffer.byteLength(input.content, 'utf8');
    if (bytes > limits.maxDocumentBytes) {
      problems.push(`content is ${bytes} bytes; the limit is ${limits.maxDocumentBytes}`);
    }
  }
  if (input.layout && typeof input.content === 'string') {
    problems.push(...layoutProblems(input.layout, input.content.length));
  }
  problems.push(...textProblems('title', input.title, maxTitleLength));
  problems.push(...textProblems('source', input.source, maxSourceLength));
  if (input.metadata !== undefined && input.metadata !== null)
    problems.push(...metadataProblems(input.metadata));
  return problems;
}

function textProblems(name: string, value: string | null | undefined, maxLength: number): string[] {
  if (value === null || value === undefined) return [];
  if (value.length > maxLength) return [`${name} is longer than ${maxLength} characters`];
  if (!value.isWellFormed()) return [`${name} is not well-formed Unicode`];
  return [];
}
