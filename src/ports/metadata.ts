/** A flat metadata object: scalars or arrays of scalars, so every store can filter on it. */
export type MetadataScalar = string | number | boolean;
export type MetadataValue = MetadataScalar | MetadataScalar[];
export type Metadata = Record<string, MetadataValue>;
