// The pretraining loop: data mixture -> micro-batches -> AdamW step -> metrics / validation / checkpoints.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { DataError, UsageError } from '../cli/errors.js';
import { info, warn } from '../cli/log.js';
import { PRESETS, humanCount, makeConfig, parameterCount } from '../train/config.js';
import type { ScheduleName } from '../train/schedule.js';
import { TrainingSession, openInit, openRun, runConfig, tokenizerWriter } from '../train/session.js';
import { evalLoss } from '../train/step.js';
import { datasetPrefix } from '../dataset/indexed.js';
import { MixtureSampler, openSources, parseDataArg, readBlendFile, validationBatches, type Sampling, type SourceSpec } from './data.js';

export interface PretrainArgs {
  data: string[];
  'data-blend'?: string;
  valid: string[];
  out?: string;
  resume: boolean;
  overwrite: boolean;
  init?: string;
  model?: string;
  'list-presets': boolean;
  'vocab-size'?: number;
  'seq-len': number;
  'batch-size': number;
  'tokens-per-step'?: number;
  sampling: Sampling;
  steps: number;
  lr: number;
  schedule: ScheduleName;
  warmup?: number;
  'min-lr-ratio': number;
  'weight-decay': number;
  beta1: number;
  beta2: number;
  eps: number;
  clip: number;
  'log-interval': number;
  'eval-interval': number;
  'eval-batches': number;
  'save-interval': number;
  tokenizer?: string;
  log?: string;
  backend?: string;
  seed: number;
}

function listPresets(): void {
  for (const [name, shape] of Object.entries(PRESETS)) {
    const cfg = makeConfig(shape);
    process.stdout.write(JSON.stringify({ preset: name, parameters: parameterCount(cfg), human: humanCount(parameterCount(cfg)), ...shape }) + '\n');
  }
}

/** The tokenizer recorded by `tokenize` in PREFIX.meta.json, when every dataset names the same one. */
function datasetTokenizer(specs: SourceSpec[]): string | undefined {
  const seen = new Set<string>();
  for (const s of specs) {
    const p = `${s.prefix}.meta.json`;
    if (!existsSync(p)) return undefined;
    let t: unknown;
    try {
      t = (JSON.parse(readFileSync(p, 'utf8')) as { tokenizer?: unknown }).tokenizer;
    } catch (e) {
      throw new DataError(p, `cannot read dataset metadata: ${(e as Error).message}`);
    }
    if (typeof t !== 'string') return undefined;
    seen.add(t);
  }
  if (seen.size > 1) throw new UsageError(`the datasets were made with different tokenizers (${[...seen].join(', ')}); pass --tokenizer to choose`);
  const [t] = seen;
  if (t && isAbsolute(t) && !existsSync(t)) {
    warn(`tokenizer ${t} named by the datasets' .meta.json no longer exists; the checkpoint will have no tokenizer`);
    return undefined;
  }
  return t;
}

export async function run(a: PretrainArgs): Promise<void> {
  if (a['list-presets']) return listPresets();
  const T = a['seq-len'];
  const B = a['batch-size'];
  const perMicro = B * T;
  const tps = a['tokens-per-step'] ?? perMicro;
  if (tps % perMicro !== 0) throw new UsageError(`--tokens-per-step ${tps} is not a multiple of batch-size x seq-len = ${perMicro}`);
  const accum = tps / perMicro;
  const target = await openRun({ out: a.out!, resume: a.resume, overwrite: a.overwrite, backend: a.backend });
  const { resumed } = target;

  const specs: SourceSpec[] = [...(a['data-blend'] ? readBlendFile(a['data-blend']) : []), ...a.data.map(parseDataArg)];
  if (!specs.length) throw new UsageError('no training data: give --data PREFIX or --data-blend FILE');

  // Tokenizer: loaded only to size the model and to write it into checkpoints. Without --tokenizer, the one
  // `tokenize` recorded in the datasets' PREFIX.meta.json is used (new runs only).
  const tokSpec = a.tokenizer ?? (resumed ? undefined : datasetTokenizer(specs));
  const tok = tokSpec ? (await import('../tokenizer/index.js')).loadTokenizer(tokSpec) : undefined;
  if (tok && !a.tokenizer) info(`tokenizer ${tok.name} (from the datasets' .meta.json)`);
  const init = a.init && !resumed ? openInit(a.init) : undefined;
  const config = runConfig({ model: a.model, vocabSize: a['vocab-size'], seqLen: T, defaultModel: 'tiny' }, { resumed, init }, tok);

  const sources = openSources(specs, T);
  const sampler = new MixtureSampler(sources, T, config.vocab_size, a.sampling, a.seed);
  const valid = a.valid.length ? validationBatches(openSources(a.valid.map((p) => ({ weight: 1, prefix: datasetPrefix(p) })), T), T, config.vocab_size, B, a['eval-batches']) : [];
  info(`data: ${sources.map((s, i) => `${(sampler.weights[i] * 100).toFixed(1)}% ${s.prefix} (${humanCount(s.ds.numTokens)} tokens)`).join(', ')}; ${tps} tokens/step (${accum} x ${B} x ${T}), ${a.sampling === 'packed' ? 'packed sequences' : 'random windows'}`);

  const session = new TrainingSession({
    target,
    init,
    config,
    fingerprint: {
      data: specs.map((s) => `${s.weight}:${s.prefix}`),
      seq_len: T,
      batch_size: B,
      tokens_per_step: tps,
      seed: a.seed,
      // Only when packed, so checkpoints from before --sampling existed still resume.
      ...(a.sampling === 'packed' ? { sampling: a.sampling } : {}),
    },
    schedule: { name: a.schedule, lr: a.lr, warmup: a.warmup ?? Math.min(2000, Math.round(0.05 * a.steps)), totalSteps: a.steps, minLrRatio: a['min-lr-ratio'] },
    optimizer: { beta1: a.beta1, beta2: a.beta2, eps: a.eps, weightDecay: a['weight-decay'], clip: a.clip },
    seed: a.seed,
    writeTokenizer: tokenizerWriter(target.out, tok, resumed ?? init),
    extraState: () => (a.sampling === 'packed' ? { packed: sampler.cursors.map((c) => ({ ...c })) } : {}),
  });
  if (session.state0?.packed) sampler.cursors = session.state0.packed.map((c) => ({ ...c }));
  try {
    await session.train({
      steps: a.steps,
      seqLen: T,
      logInterval: a['log-interval'],
      evalInterval: a['eval-interval'],
      saveInterval: a['save-interval'],
      log: a.log,
      next: (rng) => ({ micro: Array.from({ length: accum }, () => sampler.batch(B, rng)), tokens: tps }),
      evaluate: valid.length
        ? async () => {
            const loss = await evalLoss(session.model, valid, T);
            return { valid_loss: Number(loss.toFixed(6)), valid_ppl: Number(Math.exp(loss).toPrecision(6)) };
          }
        : undefined,
    });
  } finally {
    session.dispose();
    for (const s of sources) s.ds.close();
  }
}
