// The page's entry: each screen sets itself up; they talk to ragql through graphql.js only.
import { setUpAsking } from './ask.js';
import { setUpDocuments } from './documents.js';
import { setUpSearch } from './search.js';

setUpAsking();
setUpSearch();
setUpDocuments();
