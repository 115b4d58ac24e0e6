// Learning-rate schedules. `multistep` is DeepSeek's (DeepSeek LLM / DeepSeekMath): linear warmup to the peak,
// then x0.316 after 80% of the steps and x0.1 after 90%. Steps are 0-based: lrAt(0) is the rate of the first update.

export const SCHEDULES = ['multistep', 'cosine', 'constant'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

export interface ScheduleSpec {
  name: ScheduleName;
  /** Peak learning rate. */
  lr: number;
  warmup: number;
  totalSteps: number;
  /** Floor of the cosine schedule, as a fraction of the peak. */
  minLrRatio?: number;
}

export function lrAt(spec: ScheduleSpec, step: number): number {
  const { lr, warmup, totalSteps } = spec;
  if (warmup > 0 && step < warmup) return (lr * (step + 1)) / warmup;
  switch (spec.name) {
    case 'constant':
      return lr;
    case 'multistep':
      if (step >= 0.9 * totalSteps) return lr * 0.1;
      if (step >= 0.8 * totalSteps) return lr * 0.316;
      return lr;
    case 'cosine': {
      const floor = lr * (spec.minLrRatio ?? 0.1);
      const span = Math.max(1, totalSteps - warmup);
      const p = Math.min(1, (step - warmup) / span);
      return floor + 0.5 * (lr - floor) * (1 + Math.cos(Math.PI * p));
    }
  }
}
