// A local checkpoint as the model interface of src/model/types.ts: what `eval run --model CHECKPOINT` talks to
// instead of an HTTP endpoint, with the same requests and completions, so both paths share every line of eval.
// Each generate() call is one request to the shared Generator, so concurrent calls (eval's --concurrency) share one
// decoding batch.
import { RejectedRequest, type Completion, type GenerateRequest, type TextGenerator } from '../model/types.js';
import { backendChoice, initBackend, logBackend } from '../train/backend.js';
import { chatFormat, type ChatFormat } from './chat.js';
import { Generator } from './generator.js';
import { loadCheckpoint, weightsVersion } from './load.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { NEUTRAL } from './sampling.js';

export interface LocalGeneratorOptions {
  backend?: string;
  /** Sequences decoded together. */
  batchSize: number;
  /** Render each prompt as a user turn with the checkpoint's chat template (what a chat endpoint does). */
  chat?: boolean;
  system?: string;
  chatTemplate?: string;
}

export class LocalTextGenerator implements TextGenerator {
  constructor(
    readonly name: string,
    private readonly gen: Generator,
    private readonly tokenizer: Tokenizer,
    private readonly o: { chat?: ChatFormat; system?: string; close?: () => void; version?: string } = {},
  ) {}

  get version(): string | undefined {
    return this.o.version;
  }

  static async open(path: string, o: LocalGeneratorOptions): Promise<LocalTextGenerator> {
    const backend = await initBackend(backendChoice(o.backend));
    logBackend(backend);
    const { dir, model, tokenizer: tok, identity, eosIds } = loadCheckpoint(path);
    const chat = o.chat ? chatFormat(dir, tok, o.chatTemplate) : undefined;
    const gen = new Generator(model, { batchSize: o.batchSize, eosIds: [...new Set([...eosIds, ...(chat?.stopIds ?? [])])], tokenBytes: (id) => tok.tokenBytes(id), caps: backend.caps });
    return new LocalTextGenerator(identity.path, gen, tok, {
      version: weightsVersion(dir, identity.step),
      chat,
      system: o.system,
      close: () => {
        model.dispose();
        tok.free();
      },
    });
  }

  /** Plain text as is (special-token text stays text), or rendered as one user turn after the system message. */
  private promptIds(prompt: string): number[] {
    const { chat, system } = this.o;
    if (!chat) return this.tokenizer.encode(prompt);
    const messages = [...(system ? [{ role: 'system', content: system }] : []), { role: 'user', content: prompt }];
    return this.tokenizer.encode(chat.render(messages), { allowSpecial: true });
  }

  /**
   * A request without a seed uses seed 0, so the same request gives the same samples (as a seeded request does in
   * vLLM). The RNG stream is a hash of the prompt: a seed gives a prompt the same samples whatever else runs in
   * the batch and in whatever order requests arrive. `logprobs` are the model's own (raw) log-probabilities.
   */
  async generate(req: GenerateRequest): Promise<Completion[]> {
    const request = {
      prompt: this.promptIds(req.prompt),
      params: { ...NEUTRAL, temperature: req.temperature, topP: req.topP ?? 1, maxTokens: req.maxTokens, stop: req.stop ?? [], n: req.n, seed: req.seed ?? 0 },
      stream: fnv1a(req.prompt),
    };
    // A prompt the model cannot take is this request's problem (as a server's 400), not the run's.
    const why = this.gen.check(request);
    if (why) throw new RejectedRequest(`${this.name}: ${why}`);
    const samples = await this.gen.submit(request);
    return samples.map((s) => ({ text: s.text, finishReason: s.finishReason, tokens: s.tokens, logprobs: s.logprobs }));
  }

  async close(): Promise<void> {
    this.o.close?.();
  }
}

function fnv1a(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}
