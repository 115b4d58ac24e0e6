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
import { generationEos } from '../sample/load.js';
import type { TrainingArgs } from '../train/options.js';
import { TrainingSession, openInit, openRun, runConfig, tokenizerWriter } from '../train/session.js';
import { evalLoss, type TokenBatch } from '../train/step.js';
import { HeldOutAccuracy, readHeldOut } from './accuracy.js';
import { encodeConversation, type Encoded, type Render } from './encode.js';
import { toConversation, type Conversation, type ExampleFields } from './examples.js';
import { lossByFormat } from './format-loss.js';
import { fillRatio, packEpoch, rowsToBatch, type PackedBatch, type Packing, type Row } from './pack.js';
import { BUILTIN_TEMPLATES, TOOL_ROLES, builtinTemplate, compileTemplate, type BuiltinTemplate } from './templates.js';

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
  /** Greedy accuracy on --valid every N steps (a multiple of --eval-interval); 0: off. */
  evalAccuracyInterval: number;
  evalMaxTokens: number;
  goldField?: string;
}

/** Every record as a conversation (bad ones: an error naming file:line, or skipped and counted). */
async function readConversations(paths: string[], fields: ExampleFields, skipInvalid: boolean): Promise<Conversation[]> {
  const stats = newReadStats();
  const out: Conversation[] = [];
  for await (const rec of readJsonl(paths, { skipInvalid, stats })) {
    try {
      out.push(toConversation(rec, fields));
    } catch (err) {
      if (!(err instanceof DataError) || !skipInvalid) throw err;
      stats.skipped++;
    }
  }
  reportSkipped(stats);
  return out;
}

/** Encode every conversation; examples longer than the context are cut (counted), ones with nothing to train dropped. */
function encodeExamples(paths: string[], convs: Conversation[], render: Render, tok: Tokenizer, T: number, skipInvalid: boolean): Encoded[] {
  const out: Encoded[] = [];
  let [cut, empty, bad] = [0, 0, 0];
  for (const c of convs) {
    let e: Encoded;
    try {
      e = encodeConversation(c, render, tok);
    } catch (err) {
      if (!(err instanceof DataError) || !skipInvalid) throw err;
      bad++;
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
  if (bad) warn(`skipped ${bad} example${bad === 1 ? '' : 's'} the chat template cannot render`);
  if (cut) warn(`${cut} example${cut === 1 ? '' : 's'} longer than --seq-len ${T} tokens: cut to their first ${T}`);
  if (empty) warn(`${empty} example${empty === 1 ? '' : 's'} with no trained token inside the first ${T} dropped`);
  if (!out.length) throw new DataError(inputsWhere(paths), 'no training examples');
  return out;
}

/**
 * The chat template: a built-in by name, a FILE, or the checkpoint's. The tokenizer's marker template has no tool
 * turns, so data with tool turns gets its extension with them (templates.ts), which the checkpoint then carries.
 */
function pickTemplate(name: string | undefined, dir: string, tok: Tokenizer, hasTools: boolean): { render: Render; template: string; source: string; carry: boolean } {
  let builtin = BUILTIN_TEMPLATES.find((b) => b === name);
  if (!builtin) {
    const chat = chatFormat(dir, tok, name);
    if (!(hasTools && tok.chatTemplate && chat.template === tok.chatTemplate)) return { render: chat.text, template: chat.template, source: chat.source, carry: name !== undefined };
    builtin = 'markers';
  }
  const template = builtinTemplate(builtin as BuiltinTemplate, tok);
  const source = `built-in ${builtin} with tool turns`;
  return { render: compileTemplate(template, source, tok), template, source, carry: true };
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
function normalize(batches: PackedBatch[]): PackedBatch[] {
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
  const convs = await readConversations(o.inputs, o.fields, o.skipInvalid);
  const validConvs = o.valid ? await readConversations([o.valid], o.fields, o.skipInvalid) : [];
  const hasTools = [...convs, ...validConvs].some((c) => c.turns.some((t) => TOOL_ROLES.includes(t.role)));
  const chat = pickTemplate(o.chatTemplate, from?.dir ?? '', tok, hasTools);
  info(`chat template: ${chat.source}`);

  const examples = encodeExamples(o.inputs, convs, chat.render, tok, T, o.skipInvalid);
  const formats = [...new Set(examples.map((e) => e.tag))].sort();
  const lengths = examples.map((e) => Math.min(T, e.ids.length));
  const rowsPerEpoch = packEpoch(lengths, T, o.packing, o.seed, 0).length;
  const rowsPerStep = o.batchSize * o.gradAccum;
  const steps = o.steps ?? Math.max(1, Math.ceil((o.epochs * rowsPerEpoch) / rowsPerStep));
  const trainedTokens = examples.reduce((a, e) => a + e.trained.subarray(1, T).reduce((x, y) => x + y, 0), 0);
  info(
    `${examples.length} examples (${trainedTokens} trained tokens) packed ${o.packing} into ${rowsPerEpoch} rows of ${T}: ` +
      `${(100 * fillRatio(packEpoch(lengths, T, o.packing, o.seed, 0), T)).toFixed(1)}% of tokens are data; ${steps} steps of ${rowsPerStep} rows`,
  );
  const count = (tag: string) => examples.filter((e) => e.tag === tag).length;
  if (formats.length > 1) info(`formats: ${formats.map((f) => `${f} ${count(f)}`).join(', ')} (loss_<format> in the metrics)`);

  let valid: TokenBatch[] = [];
  if (o.valid) {
    const vex = encodeExamples([o.valid], validConvs, chat.render, tok, T, o.skipInvalid);
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
    writeTokenizer: withChatTemplate(tokenizerWriter(target.out, o.tokenizer ? tok : undefined, from), chat.carry ? chat.template : undefined),
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

  // Greedy accuracy on the held-out questions, through the live model.
  let accuracy: HeldOutAccuracy | undefined;
  if (o.evalAccuracyInterval > 0) {
    const questions = await readHeldOut(o.valid!, o.fields, o.goldField, chat.render, tok, config.max_position_embeddings, o.skipInvalid);
    const eos = [...new Set([tok.eos, ...(from ? generationEos(from.dir) : []), ...(tok.chat ? [tok.chat.end_of_turn] : [])])];
    accuracy = new HeldOutAccuracy(session.model, tok, eos, questions, o.evalMaxTokens, Math.min(32, questions.length));
    info(`greedy accuracy on ${questions.length} held-out questions every ${o.evalAccuracyInterval} steps (at most ${o.evalMaxTokens} tokens each)`);
  }

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
        const micro = normalize(Array.from({ length: o.gradAccum }, (_, i) => rowsToBatch(rows.slice(i * o.batchSize, (i + 1) * o.batchSize), examples, T, tok.pad)));
        const trained = micro.reduce((a, b) => a + b.trained, 0);
        // The step about to run writes metrics: split its loss by format (at the weights the step starts from).
        const step = session.step + 1;
        const logged = step % o.logInterval === 0 || step === steps;
        const byFormat = formats.length > 1 && logged ? lossByFormat(session.model, micro, examples, T) : {};
        return { micro, tokens: rowsPerStep * T, metrics: { trained_fraction: Number((trained / (rowsPerStep * T)).toFixed(4)), ...byFormat, epoch: cursor.epoch } };
      },
      evaluate: valid.length
        ? async () => {
            const loss = await evalLoss(session.model, valid, T);
            const out: Record<string, number> = { valid_loss: Number(loss.toFixed(6)), valid_ppl: Number(Math.exp(loss).toPrecision(6)) };
            if (accuracy && (session.step % o.evalAccuracyInterval === 0 || session.step === steps)) {
              const t0 = performance.now();
              const a = await accuracy.run();
              out.valid_accuracy = Number(a.accuracy.toFixed(6));
              const s = (performance.now() - t0) / 1000;
              info(`step ${session.step}: held-out greedy accuracy ${(100 * a.accuracy).toFixed(1)}% (${a.correct}/${a.total}), valid loss ${loss.toFixed(4)}; ${a.tokens} tokens generated in ${s.toFixed(1)} s`);
            }
            return out;
          }
        : undefined,
    });
  } finally {
    session.dispose();
    tok.free();
  }
}
