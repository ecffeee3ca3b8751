import { z } from 'zod';
import type { GenerationState } from '../ports.ts';

const space = z.object({ provider: z.string(), modelId: z.string(), dimensions: z.number().int().min(1) });
const generationState = z
  .object({
    active: z.number().int().min(0),
    activeSpace: space.optional(),
    building: z
      .object({
        generation: z.number().int().min(1),
        space,
        sealed: z.object({ at: z.number(), until: z.number() }).optional(),
      })
      .nullable(),
    retired: z.array(z.number().int().min(0)),
    // Absent from records written before it was kept; never below the highest a record names.
    highest: z.number().int().min(0).optional(),
  })
  .transform((state) => ({
    ...state,
    highest: Math.max(state.highest ?? 0, state.active, state.building?.generation ?? 0, ...state.retired),
  }));

/** The state of a store that never recorded one: the generation it was created as serves. */
export const firstGenerationState: GenerationState = {
  active: 0,
  building: null,
  retired: [],
  highest: 0,
};

/**
 * A store's record of its generations, as read back (the same shape in every store): refused
 * whole when anything in it is not what ragql writes.
 */
export function parseGenerationState(recorded: unknown): GenerationState {
  return generationState.parse(recorded);
}
