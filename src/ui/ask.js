// Ask: a question sent as answerStream over GraphQL's SSE transport, its tokens shown as they
// arrive, a restart or failure shown as such, its citations links to the chunks they cite.
import { errorText, requestHeaders } from './graphql.js';

const subscription = `subscription Ask($question: String!) {
  answerStream(question: $question) {
    __typename
    ... on AnswerSources { sources { chunk { id content pages { first last } sectionPath document { id title source } } } }
    ... on AnswerToken { index text }
    ... on AnswerRestarted { model reason }
    ... on AnswerCompleted { text model citations { marker } usage { totalTokens costUsd } routing { model reason fallbacks { from to reason } } }
    ... on AnswerFailed { code message }
  }
}`;

const element = (id) => document.getElementById(id);
let running = null;
let sources = [];

export function setUpAsking() {
  element('ask').addEventListener('submit', (event) => {
    event.preventDefault();
    void ask(element('question').value);
  });
  element('stop').addEventListener('click', () => running?.abort());
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
  try {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { ...requestHeaders('text/event-stream'), 'content-type': 'application/json' },
      body: JSON.stringify({ query: subscription, variables: { question } }),
      signal: running.signal,
    });
    if (!response.ok || !response.body) throw new Error(await refusalOf(response));
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

/** Why the server refused the stream: its GraphQL errors when it sent some, else its status. */
async function refusalOf(response) {
  try {
    const { errors } = await response.json();
    if (errors?.length) return errorText(errors);
  } catch {}
  return `the server answered ${response.status}`;
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
    setState('failed', errorText(result.errors));
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
          item.textContent = [titleOf(hit.chunk.document), placeOf(hit.chunk)].filter(Boolean).join(', ');
          return item;
        }),
      );
      break;
    case 'AnswerToken':
      element('text').append(event.text);
      break;
    case 'AnswerRestarted':
      element('text').textContent = '';
      element('answer').dataset.restarted = 'true';
      element('status').textContent = `Restarted with ${event.model}: ${event.reason}`;
      break;
    case 'AnswerCompleted':
      showAnswer(event);
      setState(
        'completed',
        element('answer').dataset.restarted === 'true'
          ? `Answered after a restart, by ${event.model}.`
          : 'Answered.',
      );
      delete element('answer').dataset.restarted;
      break;
    case 'AnswerFailed': {
      const partial =
        element('text').textContent !== '' ? ' The text above is what came before the failure.' : '';
      setState('failed', `${event.code}: ${event.message}.${partial}`);
      delete element('answer').dataset.restarted;
      break;
    }
  }
}

const titleOf = (document) => document.title ?? document.source ?? document.id;

/** "page 3", "pages 3–4" and the section a chunk is in, when its file has them. */
export function placeOf(chunk) {
  const pages =
    chunk.pages === null
      ? ''
      : chunk.pages.first === chunk.pages.last
        ? `page ${chunk.pages.first}`
        : `pages ${chunk.pages.first}–${chunk.pages.last}`;
  return [pages, chunk.sectionPath.join(' › ')].filter(Boolean).join(', ');
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
  const fallbacks = answer.routing.fallbacks.map(
    (fallback) => `; fell back from ${fallback.from} to ${fallback.to} (${fallback.reason})`,
  );
  element('routing').textContent = `${answer.routing.model}: ${answer.routing.reason}${fallbacks.join('')}`;
  const cost = answer.usage.costUsd === null ? 'price unknown' : `$${answer.usage.costUsd.toFixed(6)}`;
  element('usage').textContent = `${answer.usage.totalTokens} tokens, ${cost}`;
  element('details').hidden = false;
}

function showChunk(hit) {
  const { document: source } = hit.chunk;
  element('cited-title').textContent = source.title ?? source.id;
  element('cited-source').textContent = source.source ?? '';
  element('cited-place').textContent = placeOf(hit.chunk);
  element('cited-text').textContent = hit.chunk.content;
  element('cited').hidden = false;
  element('cited').focus();
}
