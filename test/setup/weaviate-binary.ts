/** Global setup of the cluster project: the binary its tests start nodes from (built if missing). */
import type { TestProject } from 'vitest/node';
import { findWeaviateBinary } from './weaviate-availability.ts';

export default async function setup(project: TestProject): Promise<void> {
  project.provide('weaviateBinary', await findWeaviateBinary());
}
