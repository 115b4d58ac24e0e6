// The reward model's choices, apart from the code that uses them: the command line reads these, and importing
// model.ts or label.ts for them would load tfjs on every `mathpipe` start-up.
export const RM_KINDS = ['orm', 'prm'] as const;
export type RmKind = (typeof RM_KINDS)[number];

export const LABEL_RULES = ['any', 'most'] as const;
export type LabelRule = (typeof LABEL_RULES)[number];
