// `grpo rm label` and `grpo rm train`: process labels from the policy's own rollouts, and a reward model trained on
// labels, as files (the loop in `grpo --iterations` does the same in process).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError, UsageError, inputsWhere } from '../../cli/errors.js';
import { info } from '../../cli/log.js';
import { newReadStats, readJsonl, reportSkipped, withWriter } from '../../jsonl/index.js';
import { backendChoice, initBackend, logBackend } from '../../train/backend.js';
import { checkpointTarget, findCheckpoint, restoreOptimizer, saveCheckpoint } from '../../train/checkpoint.js';
import { AdamW } from '../../train/optimizer.js';
import { chatFormat } from '../../sample/chat.js';
import { Generator } from '../../sample/generator.js';
import { loadCheckpoint } from '../../sample/load.js';
import type { SamplingParams } from '../../sample/sampling.js';
import { loadTokenizer } from '../../tokenizer/index.js';
import { checkWritable } from '../../cli/output-file.js';
import type { StepSeparator } from '../advantages.js';
import { eosIds, toQuestion, type PromptFormat } from '../data.js';
import { promptRecord, type QuestionArgs } from '../options.js';
import { readLabeled } from './data.js';
import { contentTokens, labelOutputs, type LabelItem } from './label.js';
import type { LabelRule, RmKind } from './kinds.js';
import { RewardModel, readRmConfig } from './model.js';
import { rmEvaluate, trainRewardModel } from './train.js';

export interface RmLabelOptions extends QuestionArgs {
  model: string;
  inputs: string[];
  output?: string;
  stop: string[];
  topP: number;
  temperature: number;
  maxTokens: number;
  samples: number;
  rollouts: number;
  rule: LabelRule;
  sep: StepSeparator;
  genBatch: number;
  seed: number;
  skipInvalid: boolean;
  backend?: string;
}

export async function runRmLabel(o: RmLabelOptions): Promise<void> {
  const backend = await initBackend(backendChoice(o.backend));
  logBackend(backend);
  const m = loadCheckpoint(o.model);
  const tok = m.tokenizer;
  try {
    const chat = o.prompt.chat ? chatFormat(m.dir, tok, o.prompt.chatTemplate) : undefined;
    const format: PromptFormat = { template: o.prompt.template, chat, system: o.prompt.system, bos: o.prompt.bos };
    const gen = new Generator(m.model, { batchSize: o.genBatch, eosIds: eosIds(m.dir, tok, chat), tokenBytes: (id) => tok.tokenBytes(id), caps: backend.caps });
    const bytesOf = (id: number): Uint8Array => {
      try {
        return tok.tokenBytes(id);
      } catch {
        return new Uint8Array(0);
      }
    };
    const sampling = (n: number, seed: number): SamplingParams => ({ temperature: o.temperature, topP: o.topP, topK: 0, minP: 0, maxTokens: o.maxTokens, stop: o.stop, stopTokenIds: [], ignoreEos: false, n, seed });
    // Outputs: a record's own "completion", else --samples of the policy's.
    const stats = newReadStats();
    const items: LabelItem[] = [];
    const pending: Promise<void>[] = [];
    let n = 0;
    for await (const rec of readJsonl(o.inputs, { skipInvalid: o.skipInvalid, stats })) {
      let q;
      try {
        q = toQuestion(rec, o.fields, format, tok, m.model.config.max_position_embeddings, n);
      } catch (e) {
        if (!(e instanceof DataError) || !o.skipInvalid) throw e;
        stats.skipped++;
        continue;
      }
      const c = rec.value.completion;
      if (typeof c === 'string') items.push({ q, tokens: tok.encode(c) });
      else {
        const slot = items.length;
        for (let j = 0; j < o.samples; j++) items.push({ q, tokens: [] });
        pending.push(
          gen.submit({ prompt: q.prompt, params: sampling(o.samples, o.seed), stream: n }).then((ss) => {
            ss.forEach((s, j) => (items[slot + j].tokens = contentTokens(s)));
          }),
        );
      }
      n++;
    }
    reportSkipped(stats);
    if (!n) throw new DataError(inputsWhere(o.inputs), 'no questions');
    await Promise.all(pending);
    info(`${items.length} outputs of ${n} questions; ${o.rollouts ? `${o.rollouts} rollouts from each step prefix, a step is good when ${o.rule} of them reach the gold answer` : 'outcome labels only (--rollouts 0)'}`);
    const records = await labelOutputs(gen, items, bytesOf, { rollouts: o.rollouts, rule: o.rule, sep: o.sep, sampling: (k) => sampling(k, o.seed + 1), grade: { extract: o.extract, symbolic: o.symbolic }, streamBase: 0 });
    await withWriter(o.output, async (out) => {
      for (const r of records) await out.writeJson(r);
    });
    const steps = records.flatMap((r) => r.step_labels ?? []);
    info(`${records.length} labeled outputs, ${records.filter((r) => r.label).length} right${steps.length ? `; ${steps.length} steps, ${steps.filter((x) => x).length} good` : ''}`);
  } finally {
    m.model.dispose();
    tok.free();
  }
}

export interface RmTrainOptions {
  init: string;
  out: string;
  overwrite: boolean;
  kind?: RmKind;
  inputs: string[];
  valid?: string;
  steps?: number;
  epochs: number;
  batchSize: number;
  lr: number;
  fields: QuestionArgs['fields'];
  prompt: QuestionArgs['prompt'];
  sep: StepSeparator;
  seed: number;
  skipInvalid: boolean;
  backend?: string;
}

export async function runRmTrain(o: RmTrainOptions): Promise<void> {
  const out = checkpointTarget(o.out, { overwrite: o.overwrite, resume: false });
  checkWritable(out, { directory: true });
  const dir = findCheckpoint(o.init);
  if (!dir) throw new UsageError(`--init ${o.init}: no checkpoint there (config.json missing)`);
  if (!o.kind && !readRmConfig(dir)) throw new UsageError(`--kind orm|prm is required: --init ${o.init} is not a reward model`);
  const backend = await initBackend(backendChoice(o.backend));
  logBackend(backend);
  const tok = loadTokenizer(dir);
  const chat = o.prompt.chat ? chatFormat(dir, tok, o.prompt.chatTemplate) : undefined;
  const format: PromptFormat = { template: o.prompt.template, chat, system: o.prompt.system, bos: o.prompt.bos };
  let rm: RewardModel | undefined;
  let opt: AdamW | undefined;
  try {
    const data = o.inputs.filter((p) => p !== '-').map((p) => resolve(p));
    rm = RewardModel.load(dir, { fresh: o.kind ? { format: 'mathpipe-reward-model', kind: o.kind, step_separator: o.sep, prompt: promptRecord(o.prompt), data } : undefined });
    if (!o.kind) rm.rm.data.push(...data);
    const kind = rm.rm.kind;
    const sep = rm.rm.step_separator;
    if (JSON.stringify(rm.rm.prompt) !== JSON.stringify(promptRecord(o.prompt))) throw new UsageError(`--init ${o.init} was trained on prompts ${JSON.stringify(rm.rm.prompt)}; give the same --prompt-template, --chat, --system, --bos`);
    const read = { questionField: o.fields.question, format, tok, sep, context: rm.config.max_position_embeddings, skipInvalid: o.skipInvalid };
    const train = await readLabeled(o.inputs, kind, read);
    const valid = o.valid ? await readLabeled([o.valid], kind, read) : undefined;
    const steps = o.steps ?? Math.max(1, Math.ceil((o.epochs * train.length) / o.batchSize));
    const positions = train.reduce((a, e) => a + e.labels.length, 0);
    info(`${kind === 'orm' ? 'outcome' : 'process'} reward model: ${train.length} labeled outputs (${positions} ${kind === 'orm' ? 'labels' : 'step labels'}, ${((100 * train.reduce((a, e) => a + e.labels.filter((x) => x).length, 0)) / positions).toFixed(0)}% good), ${steps} steps of ${o.batchSize}, lr ${o.lr}`);
    opt = new AdamW(rm.trainable(), { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, clip: 1 }, backend.caps);
    if (!o.kind && existsSync(join(dir, 'optimizer.safetensors'))) restoreOptimizer(opt, dir);
    const line = (r: object): void => void process.stdout.write(JSON.stringify(r) + '\n');
    const evaluate = (step: number) => {
      if (!valid) return;
      const v = rmEvaluate(rm!, valid, o.batchSize);
      line({ step, valid_loss: Number(v.loss.toFixed(6)), valid_accuracy: Number(v.accuracy.toFixed(6)) });
    };
    evaluate(0);
    await trainRewardModel(rm, opt, train, { steps, batchSize: o.batchSize, lr: o.lr, seed: o.seed, onStep: (step, r) => line({ step, loss: Number(r.loss.toFixed(6)), accuracy: Number(r.accuracy.toFixed(6)), grad_norm: Number(r.gradNorm.toFixed(6)) }) });
    evaluate(steps);
    const model = rm;
    await saveCheckpoint(out, {
      config: rm.config,
      model: rm.core,
      optimizer: opt,
      writeTokenizer: (d) => {
        tok.save(d);
        model.writeConfig(d);
      },
    });
    info(`reward model ${out}`);
  } finally {
    opt?.dispose();
    rm?.dispose();
    tok.free();
  }
}
