// The model interface shared by eval, sample/serve and grpo. A local checkpoint (training core) and an
// OpenAI-compatible HTTP endpoint both implement TextGenerator; only local models can also score
// tokens (TokenScorer), which GRPO needs for its ratio and KL terms.
import { IoError } from '../cli/errors.js';

export interface GenerateRequest {
  prompt: string;
  maxTokens: number;
  /** 0 means greedy. */
  temperature: number;
  topP?: number;
  /** Generation stops before the first occurrence of any of these strings (it is not included). */
  stop?: string[];
  /** Number of independent samples for this prompt. */
  n: number;
  seed?: number;
}

export interface Completion {
  text: string;
  finishReason: 'stop' | 'length';
  /** Token ids of `text`, when the generator knows them (local models). */
  tokens?: number[];
  /** log p of each generated token under the sampling policy, aligned with `tokens`. */
  logprobs?: number[];
}

/**
 * One request the model refuses (a prompt longer than the context, a 400 from a server): the caller records its
 * item as an error and goes on, unlike a failure of the model or the connection.
 */
export class RejectedRequest extends IoError {}

export interface TextGenerator {
  /** Shown in eval summaries: a model name or checkpoint path. */
  readonly name: string;
  /**
   * What tells these weights from others of the same name (a local checkpoint's step and weight files): part of
   * eval's cache key, so a re-trained checkpoint in the same directory is not answered from the last one's cache.
   */
  readonly version?: string;
  generate(req: GenerateRequest): Promise<Completion[]>;
  close?(): Promise<void>;
}

export interface TokenScorer {
  /**
   * Per-token log-probabilities: for each sequence, out[t] = log p(tokens[t+1] | tokens[0..t]),
   * so the result has length tokens.length - 1.
   */
  logprobs(sequences: number[][]): Promise<Float32Array[]>;
}
