// Documents: the tenant's documents a page at a time (filtered), a document's chunks, deletion,
// and uploads, each file sent on its own so that each gets its own status.

import { placeOf } from './ask.js';
import { graphql, onKeyChange, upload } from './graphql.js';

const pageSize = 10;
const listQuery = `query Documents($first: Int, $after: String, $last: Int, $before: String, $filter: [FilterCondition!]) {
  documents(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    edges { cursor node { id title source chunkCount } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;
const chunksQuery = `query Chunks($id: ID!) {
  document(id: $id) { id title chunks { index content pages { first last } sectionPath } }
}`;
const deletion = 'mutation Delete($id: ID!) { deleteDocument(id: $id) { deleted } }';
const ingestFiles = `mutation Upload($files: [File!]!) {
  ingestFiles(files: $files) { documents { id status chunkCount } }
}`;

const element = (id) => document.getElementById(id);
/** The page shown: the cursors it was asked with, so that a deletion can show it again. */
let shown = { first: pageSize };
let pageInfo = null;

export function setUpDocuments() {
  element('document-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    void list({ first: pageSize });
  });
  element('next-page').addEventListener(
    'click',
    () => void list({ first: pageSize, after: pageInfo?.endCursor }),
  );
  element('previous-page').addEventListener(
    'click',
    () => void list({ last: pageSize, before: pageInfo?.startCursor }),
  );
  element('files').addEventListener('change', () => void uploadAll([...element('files').files]));
  const dropZone = element('drop-zone');
  dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropZone.dataset.over = 'true';
  });
  dropZone.addEventListener('dragleave', () => delete dropZone.dataset.over);
  dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    delete dropZone.dataset.over;
    void uploadAll([...event.dataTransfer.files]);
  });
  void list(shown);
  onKeyChange(() => void list({ first: pageSize }));
}

/** The filter the form describes: none without a field, else one condition. */
function filter() {
  const field = element('filter-field').value.trim();
  if (!field) return null;
  const operator = element('filter-operator').value;
  const raw = element('filter-value').value.trim();
  if (operator === 'exists') return [{ field, exists: raw !== 'false' }];
  // Numbers and booleans as such (filters are typed), anything else as the text it is.
  let value = raw;
  try {
    const parsed = JSON.parse(raw);
    if (typeof parsed === 'number' || typeof parsed === 'boolean') value = parsed;
  } catch {}
  return [{ field, [operator]: operator === 'in' ? raw.split(',').map((part) => part.trim()) : value }];
}

async function list(cursors) {
  element('documents-status').textContent = 'Listing…';
  try {
    const { documents } = await graphql(listQuery, { ...cursors, filter: filter() });
    shown = cursors;
    pageInfo = documents.pageInfo;
    element('document-list').replaceChildren(...documents.edges.map(({ node }) => row(node)));
    element('next-page').disabled = !pageInfo.hasNextPage;
    element('previous-page').disabled = !pageInfo.hasPreviousPage;
    const count = documents.edges.length;
    element('documents-status').textContent =
      count === 0 ? 'No documents.' : `${count} ${count === 1 ? 'document' : 'documents'} shown.`;
  } catch (error) {
    element('documents-status').textContent = `The documents could not be listed: ${error.message}`;
  }
}

function row(document) {
  const item = window.document.createElement('li');
  const title = window.document.createElement('strong');
  title.textContent = document.title ?? document.id;
  const about = window.document.createElement('span');
  about.className = 'scores';
  about.textContent = ` ${document.id} · ${document.chunkCount} ${document.chunkCount === 1 ? 'chunk' : 'chunks'}`;
  const show = button('Chunks', `Chunks of ${document.id}`, () => void showChunks(document.id));
  const remove = button('Delete', `Delete ${document.id}`, () => void removeDocument(document.id));
  const actions = window.document.createElement('div');
  actions.className = 'actions';
  actions.append(show, remove);
  item.append(title, about, actions);
  return item;
}

function button(text, label, onClick) {
  const control = window.document.createElement('button');
  control.type = 'button';
  control.textContent = text;
  control.setAttribute('aria-label', label);
  control.addEventListener('click', onClick);
  return control;
}

async function showChunks(id) {
  try {
    const { document } = await graphql(chunksQuery, { id });
    const panel = element('chunks');
    element('chunks-title').textContent = document
      ? `Chunks of ${document.title ?? document.id}`
      : `${id} is gone`;
    element('chunk-list').replaceChildren(
      ...(document?.chunks ?? []).map((chunk) => {
        const item = window.document.createElement('li');
        const place = window.document.createElement('span');
        place.className = 'scores';
        place.textContent = placeOf(chunk);
        const content = window.document.createElement('p');
        content.textContent = chunk.content;
        item.append(place, content);
        return item;
      }),
    );
    panel.hidden = false;
    panel.focus();
  } catch (error) {
    element('documents-status').textContent = `The chunks could not be read: ${error.message}`;
  }
}

async function removeDocument(id) {
  try {
    const { deleteDocument } = await graphql(deletion, { id });
    element('chunks').hidden = true;
    await list(shown);
    element('documents-status').textContent = deleteDocument.deleted
      ? `Deleted ${id}.`
      : `${id} was already gone.`;
  } catch (error) {
    element('documents-status').textContent = `${id} could not be deleted: ${error.message}`;
  }
}

/** Each file in a request of its own, in turn, its status listed as it comes. */
async function uploadAll(files) {
  const results = element('upload-results');
  for (const file of files) {
    const item = document.createElement('li');
    item.textContent = `${file.name}: uploading…`;
    results.append(item);
    try {
      const { ingestFiles: report } = await upload(ingestFiles, [file]);
      const [stored] = report.documents;
      item.dataset.status = stored.status;
      item.textContent = `${file.name}: ${stored.status} (${stored.chunkCount} ${stored.chunkCount === 1 ? 'chunk' : 'chunks'})`;
    } catch (error) {
      item.dataset.status = 'REFUSED';
      // The problem names the file; the reason is what follows its name.
      const problem = error.graphqlErrors?.[0]?.extensions?.problems?.[0];
      const reason =
        typeof problem === 'string' && problem.startsWith(`${file.name}: `)
          ? problem.slice(file.name.length + 2)
          : error.message;
      item.textContent = `${file.name}: refused: ${reason}`;
    }
  }
  element('files').value = '';
  await list({ first: pageSize });
}
