// Bands and rows for a similarity threshold, as text-dedup's optimal_param chooses them: among all
// b x r <= num_perm, the pair minimising the false-positive area (probability of becoming a candidate
// below the threshold) plus the false-negative area (of not becoming one above it), equally weighted.

/** Probability that two documents of Jaccard similarity s share at least one of b bands of r rows. */
export function candidateProbability(s: number, b: number, r: number): number {
  return 1 - (1 - s ** r) ** b;
}

function integrate(f: (x: number) => number, a: number, b: number, steps = 200): number {
  // Simpson's rule: the curves are smooth, 200 panels is far below the choice's sensitivity.
  const h = (b - a) / steps;
  let sum = f(a) + f(b);
  for (let i = 1; i < steps; i++) sum += f(a + i * h) * (i % 2 ? 4 : 2);
  return (sum * h) / 3;
}

export function optimalBands(threshold: number, numPerm: number): { bands: number; rows: number } {
  let best = { bands: 1, rows: 1 };
  let min = Infinity;
  for (let b = 1; b <= numPerm; b++) {
    for (let r = 1; r <= Math.floor(numPerm / b); r++) {
      const fp = integrate((s) => candidateProbability(s, b, r), 0, threshold);
      const fn = integrate((s) => 1 - candidateProbability(s, b, r), threshold, 1);
      const err = 0.5 * fp + 0.5 * fn;
      if (err < min) {
        min = err;
        best = { bands: b, rows: r };
      }
    }
  }
  return best;
}
