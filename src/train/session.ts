// One training run, whichever trainer drives it (pretrain, sft, grpo): the checkpoint directory it owns, resume,
// the model, optimizer, data RNG and trainer state, saving, and the step loop (lr / micro-steps / step / log /
// evaluate / checkpoint, as nanoGPT's train.py). A trainer adds only what is its own: its data, its fingerprint,
// what it keeps in the state, and its metrics.
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { CliError, DataError, EXIT, UsageError } from '../cli/errors.js';
import { info, warn } from '../cli/log.js';
import { checkWritable, removeStaleTemps } from '../cli/output-file.js';
import { onStop, type StopReason } from '../cli/cleanup.js';
import { backendChoice, initBackend, logBackend, type BackendInfo } from './backend.js';
import { TOKENIZER_FILES, checkpointTarget, copyTokenizerFiles, findCheckpoint, openCheckpoint, restoreOptimizer, saveCheckpoint, type LoadedCheckpoint, type TrainerState } from './checkpoint.js';
import { humanCount, parameterCount, resolveModelConfig, type LlamaConfig } from './config.js';
import { LlamaModel } from './model.js';
import { AdamW, type AdamWOptions } from './optimizer.js';
import { Rng } from '../util/rng.js';
import { lrAt, type ScheduleSpec } from './schedule.js';
import { trainStep, type TokenBatch } from './step.js';
import type { Tokenizer } from '../tokenizer/index.js';

/** Where a run writes and what it continues from; checked before anything heavy is loaded. */
export interface RunTarget {
  out: string;
  resumed?: LoadedCheckpoint;
  /** The backend openRun started (its capabilities choose the optimizer's path). */
  backend: BackendInfo;
}

/** -o must be ours to replace and writable; the backend starts; --resume finds the saved run (or says there is none). */
export async function openRun(o: { out: string; resume: boolean; overwrite: boolean; backend?: string }): Promise<RunTarget> {
  const out = checkpointTarget(o.out, o);
  checkWritable(out, { directory: true });
  const backend = await initBackend(backendChoice(o.backend));
  logBackend(backend);
  removeStaleTemps(out);
  const dir = o.resume ? findCheckpoint(out) : undefined;
  if (o.resume && !dir) warn(`--resume: no checkpoint in ${out} yet, starting from scratch`);
  if (dir && dir !== out) warn(`--resume: ${out} is missing, using ${dir} left by an interrupted save`);
  const resumed = dir ? openCheckpoint(dir) : undefined;
  if (resumed && !resumed.state) throw new DataError(resumed.dir, 'has no trainer_state.json: not resumable (use --init to start from its weights)');
  return { out, resumed, backend };
}

/** The checkpoint named by --init (weights and config to start from). */
export function openInit(path: string): LoadedCheckpoint {
  const dir = findCheckpoint(path);
  if (!dir) throw new UsageError(`--init ${path}: no checkpoint there (config.json missing)`);
  return openCheckpoint(dir);
}

/**
 * The model config of a run: the saved one on resume (--model and --vocab-size, when given, must describe it),
 * the --init checkpoint's, or a preset sized for the tokenizer and the sequence length.
 */
export function runConfig(
  o: { model?: string; vocabSize?: number; seqLen: number; defaultModel: string },
  from: { resumed?: LoadedCheckpoint; init?: LoadedCheckpoint },
  tok?: Tokenizer,
): LlamaConfig {
  let config: LlamaConfig;
  if (from.resumed) {
    config = from.resumed.config;
    checkSameShape(config, o);
  } else if (from.init) config = from.init.config;
  else {
    config = resolveModelConfig(o.model ?? o.defaultModel);
    const v = o.vocabSize ?? (tok ? Math.ceil(tok.vocabSize / 64) * 64 : undefined);
    if (v !== undefined) config.vocab_size = v;
    if (config.max_position_embeddings < o.seqLen) config.max_position_embeddings = o.seqLen;
    if (tok) {
      config.bos_token_id = tok.bos;
      config.eos_token_id = tok.eos;
    }
  }
  if (tok && tok.vocabSize > config.vocab_size) throw new UsageError(`tokenizer needs ${tok.vocabSize} ids but the model has vocab_size ${config.vocab_size}`);
  if (o.seqLen > config.max_position_embeddings) throw new UsageError(`--seq-len ${o.seqLen} exceeds the model's max_position_embeddings ${config.max_position_embeddings}`);
  return config;
}

function checkSameShape(saved: LlamaConfig, o: { model?: string; vocabSize?: number }): void {
  // The preset's vocabulary is only a default (the tokenizer's wins), so --vocab-size is checked on its own.
  const keys = ['num_hidden_layers', 'hidden_size', 'num_attention_heads', 'num_key_value_heads', 'intermediate_size'] as const;
  if (o.model !== undefined) {
    const asked = resolveModelConfig(o.model);
    const diff = keys.filter((k) => asked[k] !== saved[k]);
    if (diff.length) throw new UsageError(`--resume: --model ${o.model} has ${diff.map((k) => `${k} ${asked[k]}`).join(', ')}; the saved run has ${diff.map((k) => `${k} ${saved[k]}`).join(', ')}`);
  }
  if (o.vocabSize !== undefined && o.vocabSize !== saved.vocab_size)
    throw new UsageError(`--resume: --vocab-size ${o.vocabSize} differs from the saved run's ${saved.vocab_size}; resume with the same settings`);
}

/**
 * How the checkpoint gets its tokenizer files: from the tokenizer the run loaded, else copied from the checkpoint it
 * resumed or started from (until the first save, the resumed files may be in DIR.old-PID).
 */
export function tokenizerWriter(out: string, tok: Tokenizer | undefined, from: LoadedCheckpoint | undefined): ((dir: string) => void) | undefined {
  if (tok) return (dir) => tok.save(dir);
  if (!from?.hasTokenizer) return undefined;
  const src = from.dir;
  return (dir) => copyTokenizerFiles(findCheckpoint(out) === out && existsSync(join(out, TOKENIZER_FILES[0])) ? out : src, dir);
}

/** What a trainer gives a session. */
export interface SessionSpec {
  target: RunTarget;
  init?: LoadedCheckpoint;
  config: LlamaConfig;
  /** Settings that must not change on --resume (data, shapes, batch). */
  fingerprint: Record<string, unknown>;
  schedule: ScheduleSpec;
  optimizer: AdamWOptions;
  seed: number;
  writeTokenizer?: (dir: string) => void;
  /** Trainer-specific fields saved in trainer_state.json (e.g. data cursors). */
  extraState?: () => Partial<TrainerState>;
}

/** One optimizer step's input: its micro-batches (run in order, gradients averaged) and the tokens it consumed. */
export interface StepInput {
  micro: TokenBatch[];
  tokens: number;
  /** Per-step metrics of the trainer's own (e.g. the fraction of trained tokens). */
  metrics?: Record<string, number>;
}

/** What one optimizer step did, when the trainer runs the step itself (LoopSpec.update). */
export interface StepResult {
  loss: number;
  gradNorm: number;
  tokens: number;
  metrics?: Record<string, number>;
}

export interface LoopSpec {
  steps: number;
  seqLen: number;
  logInterval: number;
  evalInterval: number;
  saveInterval: number;
  /** Metrics JSONL file to append to; stdout when absent. */
  log?: string;
  /** The step's token batches (cross-entropy on the model, as pretrain and sft train); or give `update`. */
  next?(rng: Rng): StepInput;
  /**
   * A step the trainer runs itself (GRPO: generate, reward, its own objective, opt.step at `lr`), in place of
   * next() + trainStep; the loop around it (schedule, logging, evaluation, checkpoints, stops) is the same.
   */
  update?(rng: Rng, lr: number): Promise<StepResult>;
  /** Validation metrics (e.g. valid_loss); the first number is kept in the state as last_valid_loss. */
  evaluate?(): Promise<Record<string, number>>;
}

export class TrainingSession {
  readonly model: LlamaModel;
  readonly opt: AdamW;
  readonly rng: Rng;
  readonly state0?: TrainerState;
  step: number;
  tokens: number;
  lastValid?: number;
  private readonly out: string;
  private readonly elapsedBefore: number;
  private readonly t0 = performance.now();

  constructor(private readonly s: SessionSpec) {
    const { resumed } = s.target;
    this.out = s.target.out;
    const st = (this.state0 = resumed?.state);
    if (st) checkFingerprint(st.fingerprint, s.fingerprint, st.schedule, s.schedule, st.step);
    const c = s.config;
    info(`model ${c.num_hidden_layers} layers, d ${c.hidden_size}, ${c.num_attention_heads} heads (${c.num_key_value_heads} kv), vocab ${c.vocab_size}: ${humanCount(parameterCount(c))} parameters`);
    const from = resumed ?? s.init;
    this.model = from ? LlamaModel.fromTensors(c, (n) => from.weights.get(n), `${from.dir}/model.safetensors`) : LlamaModel.init(c, new Rng(s.seed));
    from?.weights.close();
    if (from !== s.init) s.init?.weights.close();
    this.opt = new AdamW(this.model.params, s.optimizer, s.target.backend.caps);
    if (resumed?.hasOptimizer) restoreOptimizer(this.opt, resumed.dir);
    else if (resumed) warn(`${resumed.dir} has no optimizer.safetensors: AdamW moments restart from zero`);
    this.rng = st ? new Rng(st.rng) : new Rng(s.seed + 0x9e37);
    this.step = st?.step ?? 0;
    this.tokens = st?.tokens ?? 0;
    this.lastValid = st?.last_valid_loss;
    this.elapsedBefore = st?.elapsed_s ?? 0;
    if (st) info(`resuming at step ${this.step} (${humanCount(this.tokens)} tokens)`);
  }

  private elapsed(): number {
    return this.elapsedBefore + (performance.now() - this.t0) / 1000;
  }

  state(): TrainerState {
    return {
      format: 'mathpipe-trainer-state',
      version: 1,
      step: this.step,
      tokens: this.tokens,
      rng: this.rng.state(),
      ...this.s.extraState?.(),
      schedule: this.s.schedule,
      elapsed_s: this.elapsed(),
      fingerprint: this.s.fingerprint,
      ...(this.lastValid !== undefined ? { last_valid_loss: this.lastValid } : {}),
    };
  }

  save(): Promise<void> {
    return saveCheckpoint(this.out, { config: this.s.config, model: this.model, optimizer: this.opt, state: this.state(), writeTokenizer: this.s.writeTokenizer });
  }

  /**
   * Train to `steps`. Ctrl-C, SIGTERM or a closed metrics pipe (`| head`) end the loop after the current step and
   * the run is saved like a finished one, so --resume continues from there; a signal then exits 130.
   */
  async train(l: LoopSpec): Promise<void> {
    if (this.step >= l.steps) info(`already at step ${this.step} of ${l.steps}: nothing to train`);
    let stop: StopReason | undefined;
    const withdraw = onStop((why) => (stop = why));
    const sink = metricsSink(l.log, () => stop === 'pipe');
    const isTTY = process.stderr.isTTY;
    let savedAt = -1;
    let trainSeconds = 0;
    let windowTokens = 0;
    let windowSeconds = 0;
    try {
      while (this.step < l.steps && !stop) {
        // lr
        const lr = lrAt(this.s.schedule, this.step);
        // micro-steps, clip, step
        const ts = performance.now();
        const input = await this.runStep(l, lr);
        const { loss, gradNorm } = input;
        const dt = (performance.now() - ts) / 1000;
        this.step += 1;
        this.tokens += input.tokens;
        trainSeconds += dt;
        windowTokens += input.tokens;
        windowSeconds += dt;
        if (!Number.isFinite(loss)) throw new DataError(`step ${this.step}`, `loss is ${loss}; lower --lr or check the data`);
        const last = this.step === l.steps;
        // log
        if (this.step % l.logInterval === 0 || last) {
          await sink.write({
            step: this.step,
            loss: Number(loss.toFixed(6)),
            lr: Number(lr.toPrecision(6)),
            grad_norm: Number(gradNorm.toFixed(6)),
            tokens: this.tokens,
            tokens_per_s: Math.round(windowTokens / windowSeconds),
            ...input.metrics,
            elapsed: Number(this.elapsed().toFixed(3)),
          });
          if (isTTY) process.stderr.write(`\rstep ${this.step}/${l.steps}  loss ${loss.toFixed(4)}  ${Math.round(windowTokens / windowSeconds)} tok/s\x1b[K`);
          windowTokens = 0;
          windowSeconds = 0;
        }
        // evaluate
        if (l.evaluate && (this.step % l.evalInterval === 0 || last)) {
          const m = await l.evaluate();
          this.lastValid = Object.values(m)[0];
          await sink.write({ step: this.step, ...m });
        }
        // checkpoint
        if ((l.saveInterval > 0 && this.step % l.saveInterval === 0) || last) {
          await this.save();
          savedAt = this.step;
        }
        // tfjs promises on wasm/cpu resolve as microtasks, so without this the loop never lets signals
        // (SIGINT/SIGTERM) or a closed stdout (| head) through.
        await new Promise((r) => setImmediate(r));
      }
      if (!existsSync(this.out) || (stop && savedAt !== this.step)) await this.save();
    } finally {
      withdraw();
      if (isTTY) process.stderr.write('\n');
      await sink.close();
    }
    const rate = trainSeconds > 0 ? Math.round((this.tokens - (this.state0?.tokens ?? 0)) / trainSeconds) : 0;
    info(`step ${this.step}: ${humanCount(this.tokens)} tokens, ${rate} tokens/s; checkpoint ${this.out}`);
    if (stop === 'signal') throw new CliError(`interrupted at step ${this.step}; the checkpoint in ${this.out} resumes with --resume`, EXIT.INTERRUPTED);
  }

  private async runStep(l: LoopSpec, lr: number): Promise<StepResult> {
    if (l.update) return l.update(this.rng, lr);
    if (!l.next) throw new Error('LoopSpec needs next() or update()');
    const input = l.next(this.rng);
    return { ...(await trainStep(this.model, this.opt, input.micro, l.seqLen, lr)), tokens: input.tokens, metrics: input.metrics };
  }

  dispose(): void {
    this.model.dispose();
    this.opt.dispose();
  }
}

/** A resumed run must keep its data and shapes; its schedule may change, but never without saying so. */
function checkFingerprint(was: Record<string, unknown>, now: Record<string, unknown>, wasSchedule: ScheduleSpec, schedule: ScheduleSpec, step: number): void {
  for (const k of new Set([...Object.keys(was), ...Object.keys(now)]))
    if (JSON.stringify(was[k]) !== JSON.stringify(now[k]))
      throw new UsageError(`--resume: ${k} was ${JSON.stringify(was[k]) ?? 'unset'} in the saved run, now ${JSON.stringify(now[k]) ?? 'unset'}; resume with the same settings`);
  const flags: Record<keyof ScheduleSpec, string> = { name: '--schedule', lr: '--lr', warmup: '--warmup', totalSteps: '--steps', minLrRatio: '--min-lr-ratio' };
  const changed = (Object.keys(flags) as (keyof ScheduleSpec)[]).filter((k) => wasSchedule[k] !== undefined && wasSchedule[k] !== schedule[k]);
  if (changed.length) warn(`--resume: ${changed.map((k) => `${flags[k]} ${wasSchedule[k]} -> ${schedule[k]}`).join(', ')}; the new schedule applies from step ${step}`);
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
