// The answer page: a question sent as answerStream over GraphQL's SSE transport (the public API,
// nothing else), its tokens shown as they arrive, its citations as links to the chunks they cite.
const subscription = `subscription Ask($question: String!) {
  answerStream(question: $question) {
    __typename
    ... on AnswerSources { sources { chunk { id content document { id title source } } } }
    ... on AnswerToken { index text }
    ... on AnswerRestarted { model reason }
    ... on AnswerCompleted { text model citations { marker } usage { totalTokens costUsd } routing { model reason } }
    ... on AnswerFailed { code message }
  }
}`;

const element = (id) => document.getElementById(id);
const keyField = element('api-key');
keyField.value = sessionStorage.getItem('ragql-api-key') ?? '';
let running = null;
let sources = [];

element('ask').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem('ragql-api-key', keyField.value);
  void ask(element('question').value);
});
element('stop').addEventListener('click', () => running?.abort());

/** A GraphQL request's headers, with the API key when one was entered. */
function requestHeaders(accept) {
  const headers = { 'content-type': 'application/json', accept };
  if (keyField.value) headers.authorization = `Bearer ${keyField.value}`;
  return headers;
}

function setState(state, status) {
  element('answer').dataset.state = state;
  element('status').textContent = status;
  element('stop').disabled = state !== 'streaming';
  element('send').disabled = state === 'streaming';
}

async function ask(question) {
  running = new AbortController();
  sources = [];
  element('text').textContent = '';
  element('sources').replaceChildren();
  element('details').hidden = true;
  element('cited').hidden = true;
  setState('streaming', 'Answering…');
  const headers = requestHeaders('text/event-stream');
  try {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: subscription, variables: { question } }),
      signal: running.signal,
    });
    if (!response.ok || !response.body) throw new Error(`the server answered ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        onFrame(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
    if (element('answer').dataset.state === 'streaming') setState('failed', 'The answer stream ended early.');
  } catch (error) {
    if (running.signal.aborted) setState('stopped', 'Stopped.');
    else setState('failed', `The answer failed: ${error.message}`);
  }
}

/** One server-sent event: `event: next` with a GraphQL result, or `event: complete`. */
function onFrame(frame) {
  const data = frame
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trim())
    .join('\n');
  if (!data) return;
  const result = JSON.parse(data);
  if (result.errors?.length) {
    setState(
      'failed',
      result.errors.map((error) => `${error.extensions?.code ?? 'ERROR'}: ${error.message}`).join('; '),
    );
    return;
  }
  const event = result.data?.answerStream;
  if (event) onEvent(event);
}

function onEvent(event) {
  switch (event.__typename) {
    case 'AnswerSources':
      sources = event.sources;
      element('sources').replaceChildren(
        ...sources.map((hit, position) => {
          const item = document.createElement('li');
          item.id = `source-${position + 1}`;
          item.textContent = hit.chunk.document.title ?? hit.chunk.document.source ?? hit.chunk.document.id;
          return item;
        }),
      );
      break;
    case 'AnswerToken':
      element('text').append(event.text);
      break;
    case 'AnswerRestarted':
      element('text').textContent = '';
      element('status').textContent = `Restarted with ${event.model}: ${event.reason}`;
      break;
    case 'AnswerCompleted':
      showAnswer(event);
      setState('completed', 'Answered.');
      break;
    case 'AnswerFailed':
      setState('failed', `${event.code}: ${event.message}`);
      break;
  }
}

/** The whole text, each [n] a link that shows source n's chunk. */
function showAnswer(answer) {
  const parts = answer.text.split(/(\[\d+\])/);
  element('text').replaceChildren(
    ...parts.map((part) => {
      const marker = /^\[(\d+)\]$/.exec(part);
      const hit = marker ? sources[Number(marker[1]) - 1] : undefined;
      if (!hit) return document.createTextNode(part);
      const link = document.createElement('a');
      link.href = `#source-${marker[1]}`;
      link.textContent = part;
      link.addEventListener('click', (click) => {
        click.preventDefault();
        showChunk(hit);
      });
      return link;
    }),
  );
  element('model').textContent = answer.model;
  element('routing').textContent = `${answer.routing.model}: ${answer.routing.reason}`;
  const cost = answer.usage.costUsd === null ? 'price unknown' : `$${answer.usage.costUsd.toFixed(6)}`;
  element('usage').textContent = `${answer.usage.totalTokens} tokens, ${cost}`;
  element('details').hidden = false;
}

function showChunk(hit) {
  const { document: source } = hit.chunk;
  element('cited-title').textContent = source.title ?? source.id;
  element('cited-source').textContent = source.source ?? '';
  element('cited-text').textContent = hit.chunk.content;
  element('cited').hidden = false;
  element('cited').focus?.();
}

// Search: the plugins query fills the retriever and reranker choices; each hit shows its scores.
const searchQuery = `query Search($query: String!, $retriever: RetrieverRef, $reranker: RerankerRef) {
  search(query: $query, retriever: $retriever, reranker: $reranker) {
    mode
    hits { score scores { keyword vector fused } chunk { id content document { id title } } }
  }
}`;

async function graphql(query, variables = {}) {
  const headers = requestHeaders('application/json');
  const response = await fetch('/graphql', {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const result = await response.json();
  if (result.errors?.length) {
    throw new Error(
      result.errors.map((error) => `${error.extensions?.code ?? 'ERROR'}: ${error.message}`).join('; '),
    );
  }
  return result.data;
}

async function loadPlugins() {
  try {
    const { plugins } = await graphql('{ plugins { name kind description } }');
    for (const plugin of plugins) {
      const option = document.createElement('option');
      option.value = plugin.name;
      option.textContent = plugin.name;
      option.title = plugin.description;
      element(plugin.kind === 'RETRIEVER' ? 'retriever' : 'reranker').append(option);
    }
    element('retriever').value = 'hybrid';
  } catch (error) {
    element('search-status').textContent = `Retrievers and rerankers could not be listed: ${error.message}`;
  }
}

// Significant digits: BM25 scores in a small corpus can be tiny.
const score = (value) => (value === null ? '–' : value.toPrecision(4));

element('search').addEventListener('submit', async (event) => {
  event.preventDefault();
  sessionStorage.setItem('ragql-api-key', keyField.value);
  const reranker = element('reranker').value;
  element('search-status').textContent = 'Searching…';
  try {
    const { search } = await graphql(searchQuery, {
      query: element('query').value,
      retriever: { name: element('retriever').value },
      reranker: reranker ? { name: reranker } : null,
    });
    element('search-status').textContent =
      `${search.hits.length} ${search.hits.length === 1 ? 'hit' : 'hits'} (${search.mode}).`;
    element('hits').replaceChildren(
      ...search.hits.map((hit) => {
        const item = document.createElement('li');
        const title = document.createElement('strong');
        title.textContent = hit.chunk.document.title ?? hit.chunk.document.id;
        const scores = document.createElement('span');
        scores.className = 'scores';
        scores.textContent = ` score ${score(hit.score)} · keyword ${score(hit.scores.keyword)} · vector ${score(hit.scores.vector)} · fused ${score(hit.scores.fused)}`;
        const content = document.createElement('p');
        content.textContent = hit.chunk.content;
        item.append(title, scores, content);
        return item;
      }),
    );
  } catch (error) {
    element('search-status').textContent = `The search failed: ${error.message}`;
  }
});

void loadPlugins();
