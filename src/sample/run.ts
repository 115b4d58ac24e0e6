// `mathpipe sample`: prompts JSONL -> completions JSONL. Each input record yields n output records (its fields plus
// the completion record of DESIGN.md), written in input order as soon as all n samples of a prompt are done.
import { DataError, UsageError, at } from '../cli/errors.js';
import { info } from '../cli/log.js';
import { withFields, withWriter, readJsonl, newReadStats, type Json, type JsonlRecord } from '../jsonl/index.js';
import { backendChoice, initBackend, logBackend } from '../train/backend.js';
import { chatFormat, parseMessages, type ChatFormat } from './chat.js';
import { Generator, type GenerationRequest, type GeneratedSample } from './generator.js';
import { loadCheckpoint, type CheckpointIdentity } from './load.js';
import type { SamplingParams } from './sampling.js';
import type { Tokenizer } from '../tokenizer/index.js';

export interface SampleOptions {
  inputs: string[];
  output?: string;
  model: string;
  tokenizer?: string;
  field: string;
  chat: boolean;
  chatTemplate?: string;
  system?: string;
  bos: boolean;
  batchSize: number;
  backend?: string;
  params: SamplingParams;
}

interface PromptRequest extends GenerationRequest {
  rec: JsonlRecord;
}

/** Log-probs as JSON numbers: 8 significant digits (float32 logits carry about 7). */
const round = (x: number) => Number(x.toPrecision(8));

/** Prompt token ids of one record: text (or chat messages rendered by the template), or ids given as an array. */
function promptTokens(rec: JsonlRecord, o: SampleOptions, tok: Tokenizer, chat: ChatFormat | undefined): number[] {
  const where = at(rec.file, rec.line);
  const v = rec.value;
  let ids: number[];
  if (chat) {
    let messages = v.messages !== undefined ? parseMessages(v.messages) : undefined;
    if (typeof messages === 'string') throw new DataError(where, `"messages" ${messages}`);
    if (!messages) {
      const p = v[o.field];
      if (typeof p !== 'string') throw new DataError(where, `no "messages" and no string "${o.field}" field`);
      messages = [...(o.system !== undefined ? [{ role: 'system', content: o.system }] : []), { role: 'user', content: p }];
    }
    let text: string;
    try {
      text = chat.render(messages);
    } catch (e) {
      throw new DataError(where, `chat template (${chat.source}): ${(e as Error).message}`);
    }
    // The template writes its markers as text; they are the tokenizer's special tokens.
    ids = tok.encode(text, { allowSpecial: true });
  } else {
    const p = v[o.field];
    if (typeof p === 'string') ids = tok.encode(p);
    else if (Array.isArray(p) && p.every((x) => Number.isInteger(x))) ids = p as number[];
    else throw new DataError(where, `"${o.field}" must be a string or an array of token ids${p === undefined ? ' (field missing)' : ''}`);
    if (o.bos) ids = [tok.bos, ...ids];
  }
  return ids;
}

function outputFields(req: PromptRequest, s: GeneratedSample, index: number, ck: CheckpointIdentity): Record<string, Json> {
  return {
    completion: s.text,
    tokens: s.tokens,
    logprobs: s.logprobs.map(round),
    sampling_logprobs: s.samplingLogprobs.map(round),
    finish_reason: s.finishReason,
    stop_reason: s.stopReason,
    prompt_index: index,
    sample_index: s.index,
    checkpoint: { path: ck.path, step: ck.step },
  };
}

export async function runSample(o: SampleOptions): Promise<void> {
  const backend = await initBackend(backendChoice(o.backend));
  logBackend(backend);
  // The wasm backend's worker threads pipe their stdout into ours, one 'error' listener each (8 here); with the
  // writer's own and the two a backpressured flush adds, Node warns of a listener leak that is not one.
  process.stdout.setMaxListeners(Math.max(process.stdout.getMaxListeners(), process.stdout.listenerCount('error') + 10));
  const { dir, model, tokenizer: tok, identity, eosIds } = loadCheckpoint(o.model, o.tokenizer);
  const chat = o.chat ? chatFormat(dir, tok, o.chatTemplate) : undefined;
  const V = model.config.vocab_size;
  for (const id of o.params.stopTokenIds) if (id >= V) throw new UsageError(`--stop-token-id ${id} is outside the model's vocabulary (0..${V - 1})`);
  const gen = new Generator(model, {
    batchSize: o.batchSize,
    eosIds: [...new Set([...eosIds, ...(chat?.stopIds ?? [])])],
    tokenBytes: (id) => tok.tokenBytes(id),
    caps: backend.caps,
  });
  info(`${identity.path} (step ${identity.step ?? '?'})${chat ? `; chat template: ${chat.source}` : ''}`);

  const stats = newReadStats();
  let index = 0;
  async function* requests(): AsyncGenerator<PromptRequest> {
    for await (const rec of readJsonl(o.inputs, { stats })) {
      const req: PromptRequest = { rec, prompt: promptTokens(rec, o, tok, chat), params: o.params, stream: index++ };
      const why = gen.check(req);
      if (why) throw new DataError(at(rec.file, rec.line), why);
      yield req;
    }
  }

  const t0 = performance.now();
  let written = 0;
  try {
    await withWriter(o.output, async (out) => {
      for await (const { request, samples } of gen.generate(requests())) {
        for (const s of samples) {
          await out.write(withFields(request.rec, outputFields(request, s, request.stream!, identity)));
          written++;
        }
      }
    });
  } finally {
    model.dispose();
  }
  const s = gen.stats;
  const secs = (performance.now() - t0) / 1000;
  info(
    `${s.prompts} prompts, ${written} samples: ${s.promptTokens} prompt tokens (${Math.round(s.promptTokens / Math.max(s.prefillSeconds, 1e-9))}/s prefill), ` +
      `${s.generatedTokens} generated (${Math.round(s.generatedTokens / Math.max(s.decodeSeconds, 1e-9))}/s decoding) in ${secs.toFixed(1)} s`,
  );
}
