// Search: the plugins query fills the retriever and reranker choices; each hit shows its scores.
import { graphql, onKeyChange } from './graphql.js';

const searchQuery = `query Search($query: String!, $retriever: RetrieverRef, $reranker: RerankerRef) {
  search(query: $query, retriever: $retriever, reranker: $reranker) {
    mode
    hits { score scores { keyword vector fused } chunk { id content document { id title } } }
  }
}`;

const element = (id) => document.getElementById(id);
// Significant digits: BM25 scores in a small corpus can be tiny.
const score = (value) => (value === null ? '–' : value.toPrecision(4));

/** Each plugin's options, as JSON Schema, by name. */
let schemas = new Map();

/** The options a plugin takes, named under its options field, from its schema. */
function showOptionsHint(kind) {
  const properties = schemas.get(element(kind).value)?.properties ?? {};
  const names = Object.entries(properties).map(
    ([name, property]) => `${name}${property.type ? ` (${property.type})` : ''}`,
  );
  element(`${kind}-options-hint`).textContent = names.length > 0 ? `(JSON: ${names.join(', ')})` : '(none)';
}

/** A plugin choice with the options typed for it; throws saying which field is not JSON. */
function choiceOf(kind) {
  const name = element(kind).value;
  if (!name) return null;
  const text = element(`${kind}-options`).value.trim();
  if (!text) return { name };
  try {
    return { name, options: JSON.parse(text) };
  } catch {
    throw new Error(`the ${kind} options are not JSON`);
  }
}

export function setUpSearch() {
  for (const kind of ['retriever', 'reranker'])
    element(kind).addEventListener('change', () => showOptionsHint(kind));
  element('search').addEventListener('submit', (event) => {
    event.preventDefault();
    void search();
  });
  void loadPlugins();
  onKeyChange(() => void loadPlugins());
}

async function loadPlugins() {
  try {
    const { plugins } = await graphql('{ plugins { name kind description optionsSchema } }');
    schemas = new Map(plugins.map((plugin) => [plugin.name, plugin.optionsSchema]));
    element('retriever').replaceChildren();
    element('reranker').replaceChildren(new Option('none', ''));
    element('search-status').textContent = '';
    for (const plugin of plugins) {
      const option = document.createElement('option');
      option.value = plugin.name;
      option.textContent = plugin.name;
      option.title = plugin.description;
      element(plugin.kind === 'RETRIEVER' ? 'retriever' : 'reranker').append(option);
    }
    element('retriever').value = 'hybrid';
    showOptionsHint('retriever');
    showOptionsHint('reranker');
  } catch (error) {
    element('search-status').textContent = `Retrievers and rerankers could not be listed: ${error.message}`;
  }
}

async function search() {
  element('search-status').textContent = 'Searching…';
  try {
    const { search: result } = await graphql(searchQuery, {
      query: element('query').value,
      retriever: choiceOf('retriever'),
      reranker: choiceOf('reranker'),
    });
    element('search-status').textContent =
      `${result.hits.length} ${result.hits.length === 1 ? 'hit' : 'hits'} (${result.mode}).`;
    element('hits').replaceChildren(
      ...result.hits.map((hit) => {
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
}
