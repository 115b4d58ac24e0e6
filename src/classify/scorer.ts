// Scoring one JSONL line: parse, normalise, encode, predict, add the score (and top labels) to the
// record. Shared by the single-threaded path and the prediction worker threads.
import { DataError, at } from '../cli/errors.js';
import { parseLine, recordText, recordWhere, withFields, type Json, type JsonlRecord } from '../jsonl/index.js';
import { Encoder } from './dictionary.js';
import type { FastTextModel } from './modelfile.js';
import { tokenize, type Normalize } from './normalize.js';
import { Predictor, topK } from './predictor.js';

export interface ScoreOptions {
  target: number;
  k: number;
  threshold: number;
  normalize: Normalize;
  textField: string;
  scoreField: string;
  skipInvalid: boolean;
}

/** What happened to a line: written (the output line), filtered by threshold, or skipped as invalid. */
export type Scored = { out: string } | { filtered: true } | { skipped: true };

export class Scorer {
  private readonly predictor: Predictor;
  private readonly enc = new Encoder();
  private readonly probs: Float64Array;
  private readonly names: string[];

  constructor(
    private readonly model: FastTextModel,
    private readonly o: ScoreOptions,
  ) {
    this.predictor = new Predictor(model);
    this.probs = new Float64Array(model.dict.nlabels);
    const prefix = model.args.label;
    this.names = model.dict.labels().map((l) => (l.startsWith(prefix) ? l.slice(prefix.length) : l));
  }

  /** Score a batch of raw lines (one file): output lines in order, with counts of filtered and skipped lines. */
  scoreBatch(file: string, lines: number[], texts: string[]): { out: string[]; filtered: number; skipped: number } {
    const res = { out: [] as string[], filtered: 0, skipped: 0 };
    for (let i = 0; i < texts.length; i++) {
      const r = this.score(texts[i], file, lines[i]);
      if ('out' in r) res.out.push(r.out);
      else if ('filtered' in r) res.filtered++;
      else res.skipped++;
    }
    return res;
  }

  /** Throws DataError for bad input unless skipInvalid. */
  score(text: string, file: string, line: number): Scored {
    try {
      return this.scoreOrThrow(text, file, line);
    } catch (e) {
      if (this.o.skipInvalid && e instanceof DataError) return { skipped: true };
      throw e;
    }
  }

  private scoreOrThrow(raw: string, file: string, line: number): Scored {
    const rec: JsonlRecord = { value: parseLine(raw, at(file, line)), raw, file, line };
    const text = recordText(rec, this.o.textField);
    const tokens = tokenize(text, this.o.normalize);
    if (!tokens.length) throw new DataError(recordWhere(rec), `empty text in field "${this.o.textField}"`);
    const n = this.model.dict.encode(tokens, this.enc);
    const probs = this.probs;
    // fastText makes no prediction for a line without any known row (only possible without "</s>")
    if (!this.predictor.probs(this.enc.rows, n, probs)) probs.fill(0);
    const score = probs[this.o.target];
    if (score < this.o.threshold) return { filtered: true };
    const fields: Record<string, Json> = { [this.o.scoreField]: round6(score) };
    if (this.o.k > 0) fields.labels = topK(probs, this.o.k).map((i) => ({ label: this.names[i], prob: round6(probs[i]) }));
    return { out: withFields(rec, fields) };
  }
}

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
