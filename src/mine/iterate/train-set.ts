// The classifier's training set for a round: the positives (seeds and every expansion so far) labeled
// math, and --negatives pool pages labeled nonmath. Negatives are the pool pages with the smallest
// seeded hash of their id, positives excluded: the same pages every round unless they became positives,
// so a round whose positives did not change trains on exactly the previous round's data.
import { readJsonl, withWriter } from '../../jsonl/index.js';
import { stableHash } from '../select/rank.js';

export async function writeTrainSet(o: { positives: string[]; pool: string[]; negatives: number; seed: number; output: string; label: string; negativeLabel: string }): Promise<{ positives: number; negatives: number }> {
  const pos = new Set<string>();
  let np = 0;
  const picked: { h: number; text: string }[] = [];
  await withWriter(o.output, async (w) => {
    for await (const r of readJsonl(o.positives)) {
      if (typeof r.value.text !== 'string') continue;
      if (typeof r.value.id === 'string') pos.add(r.value.id);
      np++;
      const p = w.writeJson({ text: r.value.text, label: o.label });
      if (p) await p;
    }
    for await (const r of readJsonl(o.pool)) {
      const id = r.value.id;
      if (typeof r.value.text !== 'string' || (typeof id === 'string' && pos.has(id))) continue;
      picked.push({ h: stableHash(`${o.seed}:${typeof id === 'string' ? id : r.raw}`), text: r.value.text });
      // Keep only the smallest hashes as we go, so memory is bounded by --negatives, not the pool.
      if (picked.length > 2 * o.negatives + 1024) {
        picked.sort((a, b) => a.h - b.h);
        picked.length = o.negatives;
      }
    }
    picked.sort((a, b) => a.h - b.h);
    picked.length = Math.min(picked.length, o.negatives);
    for (const n of picked) {
      const p = w.writeJson({ text: n.text, label: o.negativeLabel });
      if (p) await p;
    }
  });
  return { positives: np, negatives: picked.length };
}

/** Ids of a JSONL file (a round's selection). */
export async function idsOf(path: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const r of readJsonl([path])) if (typeof r.value.id === 'string' || typeof r.value.id === 'number') ids.add(String(r.value.id));
  return ids;
}
