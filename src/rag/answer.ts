import type {
  ChatModel,
  DocumentRecord,
  GroundingSource,
  SearchHit,
  TokenUsage,
  VectorStore,
} from '../ports.ts';
import { parseCitations } from './citations.ts';
import { buildGroundedMessages } from './prompt.ts';
import type { SearchMode, SearchQuery, SearchService } from './search.ts';

export interface AnswerQuery extends Omit<SearchQuery, 'query'> {
  question: string;
}

export interface Citation {
  marker: number;
  hit: SearchHit;
}

export interface CompletedAnswer {
  text: string;
  citations: Citation[];
  /** Markers in the text that named no source; they are not in `citations`. */
  invalidCitations: number;
  sources: SearchHit[];
  mode: SearchMode;
  generator: string;
  model: string;
  usage: TokenUsage;
}

/** What an answer stream yields, in this order: sources once, tokens as they arrive, then completed. */
export type AnswerEvent =
  | { type: 'sources'; sources: SearchHit[] }
  | { type: 'token'; index: number; text: string }
  | { type: 'completed'; answer: CompletedAnswer };

/** What ragql answers when retrieval finds nothing, without asking the model. */
export const nothingFoundText = 'I found nothing in the indexed documents about that question.';

/** Sources an answer is grounded in when the client does not say. */
export const defaultAnswerSources = 5;

/** Answers: search, number the hits as sources, let the chat model write from them, parse citations. */
export class AnswerService {
  constructor(
    private readonly search: SearchService,
    private readonly store: VectorStore,
    private readonly model: ChatModel,
  ) {}

  get generator(): string {
    return this.model.modelId === this.model.provider ? this.model.provider : this.model.modelId;
  }

  async *stream(query: AnswerQuery): AsyncIterable<AnswerEvent> {
    const { question, ...searchOptions } = query;
    const result = await this.search.search({
      ...searchOptions,
      query: question,
      limit: query.limit ?? defaultAnswerSources,
    });
    const sources = result.hits;
    yield { type: 'sources', sources };

    let text = '';
    let usage: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
    if (sources.length === 0) {
      text = nothingFoundText;
      yield { type: 'token', index: 0, text };
    } else {
      const documents = await this.store.getDocuments(sources.map((hit) => hit.chunk.documentId));
      const grounding = sources.map((hit, position) =>
        toGroundingSource(hit, position, documents[position] ?? null),
      );
      let index = 0;
      for await (const part of this.model.stream({
        messages: buildGroundedMessages(question, grounding),
        grounding: { question, sources: grounding },
        signal: query.signal,
      })) {
        if (part.type === 'finish') {
          usage = part.usage;
        } else {
          text += part.text;
          yield { type: 'token', index: index++, text: part.text };
        }
      }
    }
    const parsed = parseCitations(text, sources.length);
    yield {
      type: 'completed',
      answer: {
        text,
        citations: parsed.markers.map((marker) => ({ marker, hit: sources[marker - 1] as SearchHit })),
        invalidCitations: parsed.invalid,
        sources,
        mode: result.mode,
        generator: this.generator,
        model: this.model.modelId,
        usage,
      },
    };
  }

  async answer(query: AnswerQuery): Promise<CompletedAnswer> {
    for await (const event of this.stream(query)) {
      if (event.type === 'completed') return event.answer;
    }
    throw new Error('The answer stream ended without a completed event.');
  }
}

function toGroundingSource(
  hit: SearchHit,
  position: number,
  document: DocumentRecord | null,
): GroundingSource {
  return {
    marker: position + 1,
    title: document?.title ?? null,
    source: document?.source ?? null,
    text: hit.chunk.content,
  };
}
