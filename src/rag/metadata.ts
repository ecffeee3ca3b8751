import type { Metadata, MetadataScalar } from '../ports.ts';

/**
 * Metadata keys follow Weaviate's property-name rule, so every store can filter on every key
 * the same way.
 */
export const metadataKeyPattern = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The most keys one document's metadata may have. */
export const maxMetadataKeys = 64;
/** The most elements one array value may have. */
export const maxMetadataArrayLength = 256;
/** The longest string value, in characters. */
export const maxMetadataStringLength = 4096;

export function isMetadataScalar(value: unknown): value is MetadataScalar {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/** Checks that a value is a flat JSON object of scalars or arrays of scalars; returns the problems. */
export function metadataProblems(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return ['metadata must be a JSON object'];
  }
  const entries = Object.entries(value);
  const problems: string[] = [];
  if (entries.length > maxMetadataKeys) problems.push(`metadata has more than ${maxMetadataKeys} keys`);
  for (const [key, item] of entries) {
    if (!metadataKeyPattern.test(key)) {
      problems.push(`metadata key "${key.slice(0, 80)}" must match ${metadataKeyPattern}`);
    }
    const values = Array.isArray(item) ? item : [item];
    if (Array.isArray(item) && item.length > maxMetadataArrayLength) {
      problems.push(`metadata.${key} has more than ${maxMetadataArrayLength} elements`);
    }
    if (!values.every(isMetadataScalar)) {
      problems.push(`metadata.${key} must be a string, a finite number, a boolean or an array of those`);
    } else if (
      values.some((scalar) => typeof scalar === 'string' && scalar.length > maxMetadataStringLength)
    ) {
      problems.push(`metadata.${key} has a string longer than ${maxMetadataStringLength} characters`);
    }
  }
  return problems;
}

/** Metadata with its keys sorted, so equal metadata serialises to equal JSON (for hashing). */
export function canonicalMetadata(metadata: Metadata): Metadata {
  return Object.fromEntries(Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
