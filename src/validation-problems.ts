/** The part of a failed zod parse ragql reports (structural: plugins may bring their own zod). */
export interface ValidationFailure {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}

/**
 * Each issue of a failed parse as one line, `path.to.field: message` (the message alone for the
 * value as a whole), so the config, the config file and plugin options report problems alike.
 */
export function validationProblems(failure: ValidationFailure): string[] {
  return failure.issues.map((issue) =>
    issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
  );
}
