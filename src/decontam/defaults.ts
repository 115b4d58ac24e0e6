// Defaults shared by the CLI definition (which must stay light to load) and the index builder.

/** Sequences found in this many distinct benchmark items or more are not evidence (build.ts, rule 2). */
export const DEFAULT_MAX_ITEMS = 10;
