// `mathpipe mine iterate`: the DeepSeekMath recall loop. Round k: train the classifier on the seeds and
// every expansion so far against --negatives pool pages -> score the pool -> dedup (best score kept;
// against --index of earlier collections) -> decontam (with --decontam-index) -> select --budget ->
// domains -> expand the seeds. Stops when a round's selection overlaps the previous one by --stop
// (98%: the paper stopped after 4 rounds at about that) or after --max-iterations.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { info } from '../../cli/log.js';
import { readAllJsonl, withWriter } from '../../jsonl/index.js';
import { mathpipe } from './child.js';
import { loadManifest, saveManifest, type Manifest, type RoundState } from './manifest.js';
import { idsOf, writeTrainSet } from './train-set.js';

export interface IterateOptions {
  dir: string;
  pool: string[];
  seeds: string[];
  budget: number;
  negatives: number;
  maxIterations: number;
  stop: number;
  seed: number;
  trainArgs: string[];
  countArgs: string[];
  patterns?: string;
  accept: number;
  minFraction: number;
  index: string[];
  decontamIndex?: string;
  verbose: boolean;
}

export async function runIterate(o: IterateOptions): Promise<Manifest> {
  const dir = resolve(o.dir);
  mkdirSync(dir, { recursive: true });
  const abs = (p: string) => resolve(p);
  const config = { ...o, dir: undefined, verbose: undefined, pool: o.pool.map(abs), seeds: o.seeds.map(abs), patterns: o.patterns && abs(o.patterns), index: o.index.map(abs), decontamIndex: o.decontamIndex && abs(o.decontamIndex) };
  const m = loadManifest(dir, config);
  if (m.stopped?.reason === 'converged') {
    info(`${dir}: converged in round ${m.stopped.round} already`);
    return m;
  }
  m.stopped = null;
  await withWriter(undefined, async (out) => {
    for (let k = 1; k <= o.maxIterations; k++) {
      const state = m.rounds[k - 1] ?? (m.rounds[k - 1] = { round: k, done: [] });
      await round(o, dir, m, state);
      if (!state.done.includes('reported')) {
        state.done.push('reported');
        saveManifest(dir, m);
      }
      const line = out.writeJson({ ...state, done: undefined });
      if (line) await line;
      if (state.overlap_previous != null && state.overlap_previous >= o.stop) {
        m.stopped = { reason: 'converged', round: k };
        break;
      }
    }
    m.stopped ??= { reason: 'max-iterations', round: m.rounds.length };
    saveManifest(dir, m);
  });
  info(m.stopped!.reason === 'converged' ? `converged in round ${m.stopped!.round} (overlap >= ${o.stop})` : `stopped after ${m.stopped!.round} rounds (--max-iterations)`);
  return m;
}

const roundDir = (dir: string, k: number) => join(dir, `round-${String(k).padStart(2, '0')}`);

async function round(o: IterateOptions, dir: string, m: Manifest, s: RoundState): Promise<void> {
  const k = s.round;
  const rd = roundDir(dir, k);
  mkdirSync(rd, { recursive: true });
  const f = (name: string) => join(rd, name);
  const log = (name: string) => f(`${name}.log`);
  const positives = [...o.seeds, ...Array.from({ length: k - 1 }, (_, i) => join(roundDir(dir, i + 1), 'expanded.jsonl'))];
  // Run a step unless the manifest says it is done and its output is there.
  const step = async (name: string, output: string, body: () => Promise<void>) => {
    if (s.done.includes(name) && existsSync(output)) return;
    s.done = s.done.filter((d) => d !== name);
    await body();
    s.done.push(name);
    saveManifest(dir, m);
  };

  await step('train', f('model.bin'), async () => {
    const n = await writeTrainSet({ positives, pool: o.pool, negatives: o.negatives, seed: o.seed, output: f('train.jsonl'), label: 'math', negativeLabel: 'nonmath' });
    s.positives = n.positives;
    s.negatives = n.negatives;
    await mathpipe(['classify', 'train', '-o', f('model.bin'), ...o.trainArgs, f('train.jsonl')], log('train'), o.verbose);
  });
  await step('score', f('scored.jsonl'), () => mathpipe(['classify', 'predict', '-m', f('model.bin'), '-o', f('scored.jsonl'), '--', ...o.pool], log('score'), o.verbose));
  await step('dedup', f('unique.jsonl'), async () => {
    const index = o.index.length ? ['--index', ...o.index, '--'] : [];
    await mathpipe(['mine', 'dedup', '--keep', 'best-score', '--report', f('dedup.json'), '--clusters', f('clusters.jsonl'), '-o', f('unique.jsonl'), ...index, f('scored.jsonl')], log('dedup'), o.verbose);
    s.dedup = JSON.parse(readFileSync(f('dedup.json'), 'utf8')) as Record<string, unknown>;
  });
  const pool = o.decontamIndex ? f('clean.jsonl') : f('unique.jsonl');
  if (o.decontamIndex) {
    await step('decontam', f('clean.jsonl'), async () => {
      await mathpipe(['decontam', '--index', o.decontamIndex!, '--report', f('decontam.json'), '-o', f('clean.jsonl'), f('unique.jsonl')], log('decontam'), o.verbose);
      s.decontam = JSON.parse(readFileSync(f('decontam.json'), 'utf8')) as Record<string, unknown>;
    });
  }
  await step('select', f('selected.jsonl'), async () => {
    await mathpipe(['mine', 'select', '--budget', String(o.budget), ...o.countArgs, '--manifest', f('select.json'), '-o', f('selected.jsonl'), pool], log('select'), o.verbose);
    const sel = JSON.parse(readFileSync(f('select.json'), 'utf8')) as { documents_kept: number; tokens_kept: number; cutoff: { score: number } | null };
    s.selected_documents = sel.documents_kept;
    s.selected_tokens = sel.tokens_kept;
    s.cutoff_score = sel.cutoff?.score ?? null;
    const now = await idsOf(f('selected.jsonl'));
    const before = new Set<string>();
    for (let i = 1; i < k; i++) for (const id of await idsOf(join(roundDir(dir, i), 'selected.jsonl'))) before.add(id);
    const prev = k > 1 ? await idsOf(join(roundDir(dir, k - 1), 'selected.jsonl')) : undefined;
    s.overlap_previous = prev ? (now.size ? [...now].filter((id) => prev.has(id)).length / now.size : 1) : null;
    s.new_documents = [...now].filter((id) => !before.has(id)).length;
  });
  await step('domains', f('domains.jsonl'), async () => {
    await mathpipe(['mine', 'domains', '-c', f('selected.jsonl'), '--min-fraction', String(o.minFraction), '--accept', String(o.accept), '--prefixes', f('prefixes.jsonl'), '--patterns', f('patterns.txt'), '-o', f('domains.jsonl'), '--', pool], log('domains'), o.verbose);
    const rows = await readAllJsonl([f('domains.jsonl')]);
    s.flagged_domains = rows.filter((r) => r.value.math === true).map((r) => String(r.value.domain));
  });
  await step('expand', f('expanded.jsonl'), async () => {
    const patterns = o.patterns ?? f('patterns.txt');
    s.accepted_patterns = readFileSync(patterns, 'utf8').split('\n').filter((l) => l.trim() && !l.trim().startsWith('#') && !l.trim().startsWith('-')).length;
    await mathpipe(['mine', 'expand', '-p', patterns, '-o', f('expanded.jsonl'), '-c', f('selected.jsonl'), ...positives, '--', pool], log('expand'), o.verbose);
    s.expanded = (await readAllJsonl([f('expanded.jsonl')])).length;
  });
}
