// The model interface of src/model/types.ts (what `eval run` talks to) over a local checkpoint: each generate()
// call is one request to the shared Generator, so concurrent calls (eval's --concurrency) share one decoding
// batch. Not yet wired into `eval run --model`; this is the adapter that integration will use.
import type { Completion, GenerateRequest, TextGenerator } from '../model/types.js';
import type { Tokenizer } from '../tokenizer/index.js';
import type { Generator } from './generator.js';
import { NEUTRAL } from './sampling.js';

export class LocalTextGenerator implements TextGenerator {
  constructor(
    readonly name: string,
    private readonly gen: Generator,
    private readonly tokenizer: Tokenizer,
  ) {}

  /**
   * The prompt is plain text (special-token text in it stays text). A request without a seed uses seed 0, so the
   * same request gives the same samples (as a seeded request does in vLLM). `logprobs` are the model's own
   * (raw) log-probabilities of the tokens.
   */
  async generate(req: GenerateRequest): Promise<Completion[]> {
    const samples = await this.gen.submit({
      prompt: this.tokenizer.encode(req.prompt),
      params: { ...NEUTRAL, temperature: req.temperature, topP: req.topP ?? 1, maxTokens: req.maxTokens, stop: req.stop ?? [], n: req.n, seed: req.seed ?? 0 },
    });
    return samples.map((s) => ({ text: s.text, finishReason: s.finishReason, tokens: s.tokens, logprobs: s.logprobs }));
  }
}
