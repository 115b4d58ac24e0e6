// The pretraining loop: data mixture -> micro-batches -> AdamW step -> metrics / validation / checkpoints.
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { once } from 'node:events';
import { CliError, DataError, EXIT, UsageError } from '../cli/errors.js';
import { info, warn } from '../cli/log.js';
import { backendChoice, initBackend, logBackend } from '../train/backend.js';
import { PRESETS, humanCount, makeConfig, parameterCount, resolveModelConfig, type LlamaConfig } from '../train/config.js';
import { LlamaModel } from '../train/model.js';
import { AdamW } from '../train/optimizer.js';
import { Rng } from '../train/rng.js';
import { lrAt, type ScheduleName, type ScheduleSpec } from '../train/schedule.js';
import { TOKENIZER_FILES, checkpointTarget, copyTokenizerFiles, findCheckpoint, openCheckpoint, restoreOptimizer, saveCheckpoint, type TrainerState } from '../train/checkpoint.js';
import { checkWritable, removeStaleTemps } from '../cli/output-file.js';
import { onStop, type StopReason } from '../cli/cleanup.js';
import { evalLoss, trainStep } from '../train/step.js';
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

/** A metrics sink: stdout (until its reader goes away), or a file opened for append (a resumed run continues the same log). */
function metricsSink(path: string | undefined, pipeClosed: () => boolean): { write(rec: object): Promise<void>; close(): Promise<void> } {
  if (!path) return { write: async (r) => void (pipeClosed() || process.stdout.write(JSON.stringify(r) + '\n')), close: async () => {} };
  mkdirSync(dirname(path), { recursive: true });
  const s = createWriteStream(path, { flags: 'a' });
  return {
    write: async (r) => {
      if (!s.write(JSON.stringify(r) + '\n')) await once(s, 'drain');
    },
    close: () => new Promise((res) => s.end(res)),
  };
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

const DEFAULT_MODEL = 'tiny';

/** --model / --vocab-size given with --resume must describe the saved model: the run cannot change shape. */
function checkResumedShape(saved: LlamaConfig, a: PretrainArgs): void {
  // The preset's vocabulary is only a default (the tokenizer's wins), so --vocab-size is checked on its own.
  const keys = ['num_hidden_layers', 'hidden_size', 'num_attention_heads', 'num_key_value_heads', 'intermediate_size'] as const;
  if (a.model !== undefined) {
    const asked = resolveModelConfig(a.model);
    const diff = keys.filter((k) => asked[k] !== saved[k]);
    if (diff.length) throw new UsageError(`--resume: --model ${a.model} has ${diff.map((k) => `${k} ${asked[k]}`).join(', ')}; the saved run has ${diff.map((k) => `${k} ${saved[k]}`).join(', ')}`);
  }
  if (a['vocab-size'] !== undefined && a['vocab-size'] !== saved.vocab_size)
    throw new UsageError(`--resume: --vocab-size ${a['vocab-size']} differs from the saved run's ${saved.vocab_size}; resume with the same settings`);
}

/** The schedule may change on resume (longer runs, a new peak), but never without saying so. */
function noteScheduleChange(was: ScheduleSpec, now: ScheduleSpec, step: number): void {
  const flags: Record<keyof ScheduleSpec, string> = { name: '--schedule', lr: '--lr', warmup: '--warmup', totalSteps: '--steps', minLrRatio: '--min-lr-ratio' };
  const changed = (Object.keys(flags) as (keyof ScheduleSpec)[]).filter((k) => was[k] !== undefined && was[k] !== now[k]);
  if (changed.length) warn(`--resume: ${changed.map((k) => `${flags[k]} ${was[k]} -> ${now[k]}`).join(', ')}; the new schedule applies from step ${step}`);
}

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

export async function run(a: PretrainArgs): Promise<void> {
  if (a['list-presets']) return listPresets();
  // Checked before anything is loaded: -o must be ours to replace and writable, or nothing starts.
  const out = checkpointTarget(a.out!, { resume: a.resume, overwrite: a.overwrite });
  checkWritable(out, { directory: true });
  const T = a['seq-len'];
  const B = a['batch-size'];
  const perMicro = B * T;
  const tps = a['tokens-per-step'] ?? perMicro;
  if (tps % perMicro !== 0) throw new UsageError(`--tokens-per-step ${tps} is not a multiple of batch-size x seq-len = ${perMicro}`);
  const accum = tps / perMicro;

  logBackend(await initBackend(backendChoice(a.backend)));

  removeStaleTemps(out);
  const resumeDir = a.resume ? findCheckpoint(out) : undefined;
  if (a.resume && !resumeDir) warn(`--resume: no checkpoint in ${out} yet, starting from scratch`);
  if (resumeDir && resumeDir !== out) warn(`--resume: ${out} is missing, using ${resumeDir} left by an interrupted save`);
  const resumed = resumeDir ? openCheckpoint(resumeDir) : undefined;
  if (resumed && !resumed.state) throw new DataError(resumed.dir, 'has no trainer_state.json: not resumable (use --init to start from its weights)');

  const specs: SourceSpec[] = [...(a['data-blend'] ? readBlendFile(a['data-blend']) : []), ...a.data.map(parseDataArg)];
  if (!specs.length) throw new UsageError('no training data: give --data PREFIX or --data-blend FILE');

  // Tokenizer: loaded only to check it against the model and to write it into checkpoints. Without
  // --tokenizer, the one `tokenize` recorded in the datasets' PREFIX.meta.json is used (new runs only).
  let writeTokenizer: ((dir: string) => void) | undefined;
  let tokVocab: number | undefined;
  let tokIds: { bos: number; eos: number } | undefined;
  const tokSpec = a.tokenizer ?? (resumed ? undefined : datasetTokenizer(specs));
  if (tokSpec) {
    const { loadTokenizer } = await import('../tokenizer/index.js');
    const tok = loadTokenizer(tokSpec);
    tokVocab = tok.vocabSize;
    tokIds = { bos: tok.bos, eos: tok.eos };
    writeTokenizer = (dir) => tok.save(dir);
    if (!a.tokenizer) info(`tokenizer ${tok.name} (from the datasets' .meta.json)`);
  } else {
    const from = resumed?.hasTokenizer ? resumed.dir : undefined;
    // Until the first save the files are in the checkpoint we resumed from (possibly DIR.old-PID).
    if (from) writeTokenizer = (dir) => copyTokenizerFiles(findCheckpoint(out) === out && existsSync(join(out, TOKENIZER_FILES[0])) ? out : from, dir);
  }

  let config: LlamaConfig;
  let initFrom: ReturnType<typeof openCheckpoint> | undefined;
  if (resumed) {
    config = resumed.config;
    checkResumedShape(config, a);
  } else if (a.init) {
    const dir = findCheckpoint(a.init);
    if (!dir) throw new UsageError(`--init ${a.init}: no checkpoint there (config.json missing)`);
    initFrom = openCheckpoint(dir);
    config = initFrom.config;
  } else {
    config = resolveModelConfig(a.model ?? DEFAULT_MODEL);
    const v = a['vocab-size'] ?? (tokVocab !== undefined ? roundUp(tokVocab, 64) : undefined);
    if (v !== undefined) config.vocab_size = v;
    if (config.max_position_embeddings < T) config.max_position_embeddings = T;
    if (tokIds) {
      config.bos_token_id = tokIds.bos;
      config.eos_token_id = tokIds.eos;
    }
  }
  if (tokVocab !== undefined && tokVocab > config.vocab_size) throw new UsageError(`tokenizer needs ${tokVocab} ids but the model has vocab_size ${config.vocab_size}`);
  if (T > config.max_position_embeddings) throw new UsageError(`--seq-len ${T} exceeds the model's max_position_embeddings ${config.max_position_embeddings}`);

  const sources = openSources(specs, T);
  const sampler = new MixtureSampler(sources, T, config.vocab_size, a.sampling, a.seed);
  const valid = a.valid.length ? validationBatches(openSources(a.valid.map((p) => ({ weight: 1, prefix: p.replace(/\.(bin|idx)$/, '') })), T), T, config.vocab_size, B, a['eval-batches']) : [];

  const fingerprint = {
    data: specs.map((s) => `${s.weight}:${s.prefix}`),
    seq_len: T,
    batch_size: B,
    tokens_per_step: tps,
    seed: a.seed,
    // Only when packed, so checkpoints from before --sampling existed still resume.
    ...(a.sampling === 'packed' ? { sampling: a.sampling } : {}),
  };
  const schedule: ScheduleSpec = {
    name: a.schedule,
    lr: a.lr,
    warmup: a.warmup ?? Math.min(2000, Math.round(0.05 * a.steps)),
    totalSteps: a.steps,
    minLrRatio: a['min-lr-ratio'],
  };
  if (resumed?.state) {
    const was = resumed.state.fingerprint;
    const now: Record<string, unknown> = fingerprint;
    for (const k of new Set([...Object.keys(was), ...Object.keys(now)]))
      if (JSON.stringify(was[k]) !== JSON.stringify(now[k]))
        throw new UsageError(`--resume: ${k} was ${JSON.stringify(was[k]) ?? 'unset'} in the saved run, now ${JSON.stringify(now[k]) ?? 'unset'}; resume with the same settings`);
    noteScheduleChange(resumed.state.schedule, schedule, resumed.state.step);
  }

  const params = parameterCount(config);
  info(`model ${config.num_hidden_layers} layers, d ${config.hidden_size}, ${config.num_attention_heads} heads (${config.num_key_value_heads} kv), vocab ${config.vocab_size}: ${humanCount(params)} parameters`);
  info(`data: ${sources.map((s, i) => `${(sampler.weights[i] * 100).toFixed(1)}% ${s.prefix} (${humanCount(s.ds.numTokens)} tokens)`).join(', ')}; ${tps} tokens/step (${accum} x ${B} x ${T}), ${a.sampling === 'packed' ? 'packed sequences' : 'random windows'}`);

  const from = resumed ?? initFrom;
  const model = from ? LlamaModel.fromTensors(config, (n) => from.weights.get(n), `${from.dir}/model.safetensors`) : LlamaModel.init(config, new Rng(a.seed));
  from?.weights.close();
  const opt = new AdamW(model.params, { beta1: a.beta1, beta2: a.beta2, eps: a.eps, weightDecay: a['weight-decay'], clip: a.clip });
  if (resumed?.hasOptimizer) restoreOptimizer(opt, resumed.dir);
  else if (resumed) warn(`${resumed.dir} has no optimizer.safetensors: AdamW moments restart from zero`);

  const st = resumed?.state;
  const rng = st ? new Rng(st.rng) : new Rng(a.seed + 0x9e37);
  if (st?.packed) sampler.cursors = st.packed.map((c) => ({ ...c }));
  let step = st?.step ?? 0;
  let tokens = st?.tokens ?? 0;
  let lastValid = st?.last_valid_loss;
  const elapsedBefore = st?.elapsed_s ?? 0;
  if (st) info(`resuming at step ${step} (${humanCount(tokens)} tokens)`);
  if (step >= a.steps) info(`already at step ${step} of ${a.steps}: nothing to train`);

  // Ctrl-C, SIGTERM or a closed metrics pipe (`| head`) end the loop after the current step, and the run
  // is saved like a finished one, so --resume continues from there.
  let stop: StopReason | undefined;
  const withdraw = onStop((why) => (stop = why));
  const sink = metricsSink(a.log, () => stop === 'pipe');
  const t0 = performance.now();
  let trainSeconds = 0;
  let windowTokens = 0;
  let windowSeconds = 0;
  const state = (): TrainerState => ({
    format: 'mathpipe-trainer-state',
    version: 1,
    step,
    tokens,
    rng: rng.state(),
    ...(a.sampling === 'packed' ? { packed: sampler.cursors.map((c) => ({ ...c })) } : {}),
    schedule,
    elapsed_s: elapsedBefore + (performance.now() - t0) / 1000,
    fingerprint,
    ...(lastValid !== undefined ? { last_valid_loss: lastValid } : {}),
  });
  let savedAt = -1;
  const save = async () => {
    await saveCheckpoint(out, { config, model, optimizer: opt, state: state(), writeTokenizer });
    savedAt = step;
  };
  const isTTY = process.stderr.isTTY;
  try {
    while (step < a.steps && !stop) {
      const lr = lrAt(schedule, step);
      const ts = performance.now();
      const micro = Array.from({ length: accum }, () => sampler.batch(B, rng));
      const { loss, gradNorm } = await trainStep(model, opt, micro, T, lr);
      const dt = (performance.now() - ts) / 1000;
      step += 1;
      tokens += tps;
      trainSeconds += dt;
      windowTokens += tps;
      windowSeconds += dt;
      if (!Number.isFinite(loss)) throw new DataError(`step ${step}`, `loss is ${loss}; lower --lr or check the data`);
      const last = step === a.steps;
      if (step % a['log-interval'] === 0 || last) {
        await sink.write({
          step,
          loss: Number(loss.toFixed(6)),
          lr: Number(lr.toPrecision(6)),
          grad_norm: Number(gradNorm.toFixed(6)),
          tokens,
          tokens_per_s: Math.round(windowTokens / windowSeconds),
          elapsed: Number((elapsedBefore + (performance.now() - t0) / 1000).toFixed(3)),
        });
        if (isTTY) process.stderr.write(`\rstep ${step}/${a.steps}  loss ${loss.toFixed(4)}  ${Math.round(windowTokens / windowSeconds)} tok/s\x1b[K`);
        windowTokens = 0;
        windowSeconds = 0;
      }
      if (valid.length && (step % a['eval-interval'] === 0 || last)) {
        lastValid = await evalLoss(model, valid, T);
        await sink.write({ step, valid_loss: Number(lastValid.toFixed(6)), valid_ppl: Number(Math.exp(lastValid).toPrecision(6)) });
      }
      if ((a['save-interval'] > 0 && step % a['save-interval'] === 0) || last) await save();
      // tfjs promises on wasm/cpu resolve as microtasks, so without this the loop never lets signals
      // (SIGINT/SIGTERM) or a closed stdout (| head) through.
      await new Promise((r) => setImmediate(r));
    }
    if (!existsSync(out) || (stop && savedAt !== step)) await save();
  } finally {
    withdraw();
    if (isTTY) process.stderr.write('\n');
    await sink.close();
  }
  info(`step ${step}: ${humanCount(tokens)} tokens, ${trainSeconds > 0 ? Math.round((step - (st?.step ?? 0)) * tps / trainSeconds) : 0} tokens/s; checkpoint ${out}`);
  model.dispose();
  opt.dispose();
  for (const s of sources) s.ds.close();
  if (stop === 'signal') throw new CliError(`interrupted at step ${step}; the checkpoint in ${out} resumes with --resume`, EXIT.INTERRUPTED);
}
