// `mathpipe sft`: conversations -> chat-template tokens with a trained-token mask -> packed rows -> the shared
// training session. The loss of a step is the sum of its trained tokens' losses over their count (across
// gradient accumulation), so every trained token weighs the same whatever example it is in.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, UsageError, inputsWhere } from '../cli/errors.js';
import { writeOutputFile } from '../cli/output-file.js';
import { info, warn } from '../cli/log.js';
import { readJsonl, newReadStats, reportSkipped } from '../jsonl/index.js';
import { loadTokenizer, type Tokenizer } from '../tokenizer/index.js';
import { chatFormat } from '../sample/chat.js';
import type { TrainingArgs } from '../train/options.js';
import { TrainingSession, openInit, openRun, runConfig, tokenizerWriter } from '../train/session.js';
import { evalLoss, type TokenBatch } from '../train/step.js';
import { encodeConversation, type Encoded, type Render } from './encode.js';
import { toConversation, type ExampleFields } from './examples.js';
import { fillRatio, packEpoch, rowsToBatch, type Packing, type Row } from './pack.js';

export interface SftOptions extends TrainingArgs {
  inputs: string[];
  valid?: string;
  tokenizer?: string;
  chatTemplate?: string;
  fields: ExampleFields;
  skipInvalid: boolean;
  seqLen: number;
  packing: Packing;
  batchSize: number;
  gradAccum: number;
  epochs: number;
  warmup: number;
  seed: number;
}

/** Read and encode every example; examples longer than the context are cut (counted), ones with nothing to train dropped. */
async function readExamples(paths: string[], fields: ExampleFields, render: Render, tok: Tokenizer, T: number, skipInvalid: boolean): Promise<Encoded[]> {
  const stats = newReadStats();
  const out: Encoded[] = [];
  let cut = 0;
  let empty = 0;
  for await (const rec of readJsonl(paths, { skipInvalid, stats })) {
    let e: Encoded;
    try {
      e = encodeConversation(toConversation(rec, fields), render, tok);
    } catch (err) {
      if (!(err instanceof DataError) || !skipInvalid) throw err;
      stats.skipped++;
      continue;
    }
    if (e.ids.length > T) cut++;
    // Targets are tokens 1..T-1 of the kept part: nothing trained there, nothing to learn.
    if (!e.trained.subarray(1, T).some((x) => x)) {
      empty++;
      continue;
    }
    out.push(e);
  }
  reportSkipped(stats);
  if (cut) warn(`${cut} example${cut === 1 ? '' : 's'} longer than --seq-len ${T} tokens: cut to their first ${T}`);
  if (empty) warn(`${empty} example${empty === 1 ? '' : 's'} with no trained token inside the first ${T} dropped`);
  if (!out.length) throw new DataError(inputsWhere(paths), 'no training examples');
  return out;
}

/**
 * The checkpoint carries the template it was trained with, so `sample --chat`, transformers and vLLM prompt it the
 * same way: a --chat-template FILE replaces the one in tokenizer_config.json.
 */
function withChatTemplate(write: ((dir: string) => void) | undefined, template: string | undefined): ((dir: string) => void) | undefined {
  if (!write || template === undefined) return write;
  return (dir) => {
    write(dir);
    const path = join(dir, 'tokenizer_config.json');
    const cfg = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {};
    writeOutputFile(path, JSON.stringify({ ...cfg, chat_template: template }, null, 2) + '\n');
  };
}

/** Divide the weights of a step's batches by its trained-token count, so their losses add up to the token mean. */
function normalize(batches: (TokenBatch & { trained: number })[]): TokenBatch[] {
  const n = Math.max(1, batches.reduce((a, b) => a + b.trained, 0));
  for (const b of batches) for (let i = 0; i < b.weights!.length; i++) b.weights![i] /= n;
  return batches.map((b) => ({ ...b, normalized: true }));
}

export async function runSft(o: SftOptions): Promise<void> {
  const T = o.seqLen;
  const target = await openRun(o);
  const { resumed } = target;
  const init = o.init && !resumed ? openInit(o.init) : undefined;
  const from = resumed ?? init;
  if (!from && !o.tokenizer) throw new UsageError('give --init CHECKPOINT (the model to fine-tune), or --tokenizer and --model to start from random weights');
  const tok = loadTokenizer(o.tokenizer ?? from!.dir);
  const config = runConfig({ model: o.model, seqLen: T, defaultModel: 'tiny' }, { resumed, init }, tok);
  const chat = chatFormat(from?.dir ?? '', tok, o.chatTemplate);
  info(`chat template: ${chat.source}`);

  const examples = await readExamples(o.inputs, o.fields, chat.text, tok, T, o.skipInvalid);
  const lengths = examples.map((e) => Math.min(T, e.ids.length));
  const rowsPerEpoch = packEpoch(lengths, T, o.packing, o.seed, 0).length;
  const rowsPerStep = o.batchSize * o.gradAccum;
  const steps = o.steps ?? Math.max(1, Math.ceil((o.epochs * rowsPerEpoch) / rowsPerStep));
  const trainedTokens = examples.reduce((a, e) => a + e.trained.subarray(1, T).reduce((x, y) => x + y, 0), 0);
  info(
    `${examples.length} examples (${trainedTokens} trained tokens) packed ${o.packing} into ${rowsPerEpoch} rows of ${T}: ` +
      `${(100 * fillRatio(packEpoch(lengths, T, o.packing, o.seed, 0), T)).toFixed(1)}% of tokens are data; ${steps} steps of ${rowsPerStep} rows`,
  );

  let valid: TokenBatch[] = [];
  if (o.valid) {
    const vex = await readExamples([o.valid], o.fields, chat.text, tok, T, o.skipInvalid);
    const rows = packEpoch(vex.map((e) => Math.min(T, e.ids.length)), T, o.packing, o.seed, 0);
    const batches: Row[][] = [];
    for (let i = 0; i < rows.length; i += o.batchSize) batches.push(rows.slice(i, i + o.batchSize));
    valid = normalize(batches.map((r) => rowsToBatch(r, vex, T, tok.pad)));
  }

  // The data cursor: epoch and next row; the epoch's rows are recomputed from the seed on demand.
  let cursor = { epoch: 0, next: 0 };
  let epochRows: Row[] = [];
  let laidOut = -1;
  const session = new TrainingSession({
    target,
    init,
    config,
    fingerprint: { data: o.inputs, seq_len: T, batch_size: o.batchSize, grad_accum: o.gradAccum, packing: o.packing, loss_on: o.fields.lossOn, seed: o.seed, trainer: 'sft' },
    schedule: { name: o.schedule, lr: o.lr, warmup: o.warmup, totalSteps: steps },
    optimizer: { beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay, clip: o.clip },
    seed: o.seed,
    writeTokenizer: withChatTemplate(tokenizerWriter(target.out, o.tokenizer ? tok : undefined, from), o.chatTemplate ? chat.template : undefined),
    extraState: () => ({ packed: [{ ...cursor }] }),
  });
  const saved = session.state0?.packed?.[0];
  if (saved) cursor = { ...saved };
  const takeRows = (n: number): Row[] => {
    const out: Row[] = [];
    while (out.length < n) {
      if (laidOut !== cursor.epoch) [epochRows, laidOut] = [packEpoch(lengths, T, o.packing, o.seed, cursor.epoch), cursor.epoch];
      if (cursor.next >= epochRows.length) {
        cursor = { epoch: cursor.epoch + 1, next: 0 };
        continue;
      }
      out.push(epochRows[cursor.next++]);
    }
    return out;
  };
  try {
    await session.train({
      steps,
      seqLen: T,
      logInterval: o.logInterval,
      evalInterval: o.evalInterval,
      saveInterval: o.saveInterval,
      log: o.log,
      next: () => {
        const rows = takeRows(rowsPerStep);
        const micro = Array.from({ length: o.gradAccum }, (_, i) => rowsToBatch(rows.slice(i * o.batchSize, (i + 1) * o.batchSize), examples, T, tok.pad));
        const trained = micro.reduce((a, b) => a + b.trained, 0);
        return { micro: normalize(micro), tokens: rowsPerStep * T, metrics: { trained_fraction: Number((trained / (rowsPerStep * T)).toFixed(4)), epoch: cursor.epoch } };
      },
      evaluate: valid.length
        ? async () => {
            const loss = await evalLoss(session.model, valid, T);
            return { valid_loss: Number(loss.toFixed(6)), valid_ppl: Number(Math.exp(loss).toPrecision(6)) };
          }
        : undefined,
    });
  } finally {
    session.dispose();
    tok.free();
  }
}
