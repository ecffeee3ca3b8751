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

export function setUpSearch() {
  element('search').addEventListener('submit', (event) => {
    event.preventDefault();
    void search();
  });
  void loadPlugins();
  onKeyChange(() => void loadPlugins());
}

async function loadPlugins() {
  try {
    const { plugins } = await graphql('{ plugins { name kind description } }');
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
  } catch (error) {
    element('search-status').textContent = `Retrievers and rerankers could not be listed: ${error.message}`;
  }
}

async function search() {
  const reranker = element('reranker').value;
  element('search-status').textContent = 'Searching…';
  try {
    const { search: result } = await graphql(searchQuery, {
      query: element('query').value,
      retriever: { name: element('retriever').value },
      reranker: reranker ? { name: reranker } : null,
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
