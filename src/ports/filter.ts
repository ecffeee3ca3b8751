import type { MetadataScalar } from './metadata.ts';

export type FilterOperator = 'eq' | 'ne' | 'in' | 'gt' | 'gte' | 'lt' | 'lte' | 'exists';

/**
 * One condition of a metadata filter. `field` is `title`, `source` or `metadata.<key>`.
 * On array-valued metadata a condition holds when any element satisfies it (`ne`: when none equals).
 */
export type FilterCondition =
  | { field: string; operator: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte'; value: MetadataScalar }
  | { field: string; operator: 'in'; value: MetadataScalar[] }
  | { field: string; operator: 'exists'; value: boolean };

/** Every condition must hold (an AND). */
export type Filter = readonly FilterCondition[];
