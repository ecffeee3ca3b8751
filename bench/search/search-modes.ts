/** What every search of the benchmark asks for, and the three modes it times. */

export const hitsPerSearch = 10;
export const hybridAlpha = 0.5;

export interface SearchModeUnderTest {
  name: 'keyword' | 'vector' | 'hybrid';
  alpha: number;
  /** What the GraphQL API must report as having run. */
  graphqlMode: 'KEYWORD' | 'VECTOR' | 'HYBRID';
}

export const hybridMode: SearchModeUnderTest = { name: 'hybrid', alpha: hybridAlpha, graphqlMode: 'HYBRID' };

export const searchModes: SearchModeUnderTest[] = [
  { name: 'keyword', alpha: 0, graphqlMode: 'KEYWORD' },
  { name: 'vector', alpha: 1, graphqlMode: 'VECTOR' },
  hybridMode,
];
