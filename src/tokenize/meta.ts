// PREFIX.meta.json next to PREFIX.bin/.idx: which tokenizer made the ids and how documents were
// delimited, so `tokenize inspect` can decode and `pretrain` can check its vocabulary without being told.
// Megatron-LM ignores the file.
import { readFileSync, existsSync } from 'node:fs';
import { writeOutputFile } from '../cli/output-file.js';
import type { Tokenizer } from '../tokenizer/index.js';
import type { TokenDType } from '../dataset/indexed.js';

export interface DatasetMeta {
  format: 'mathpipe-dataset';
  version: 1;
  /** loadTokenizer() argument: a built-in name or an absolute tokenizer directory; null when unknown. */
  tokenizer: string | null;
  tokenizer_name: string | null;
  vocab_size: number | null;
  eos_id: number | null;
  bos_id: number | null;
  dtype: TokenDType;
  documents: number;
  tokens: number;
  eos_appended: boolean | null;
  bos_prepended: boolean | null;
  sources: string[];
  /** Set by `tokenize mix`: tokens and documents taken from each source. */
  mixture?: unknown;
}

export function metaPath(prefix: string): string {
  return `${prefix}.meta.json`;
}

export type TokenizerFields = Pick<DatasetMeta, 'tokenizer' | 'tokenizer_name' | 'vocab_size' | 'eos_id' | 'bos_id'>;

export function tokenizerFields(tok: Tokenizer): TokenizerFields {
  return { tokenizer: tok.spec, tokenizer_name: tok.name, vocab_size: tok.vocabSize, eos_id: tok.eos, bos_id: tok.bos };
}

export function writeMeta(prefix: string, m: Omit<DatasetMeta, 'format' | 'version'>): void {
  const meta: DatasetMeta = { format: 'mathpipe-dataset', version: 1, ...m };
  writeOutputFile(metaPath(prefix), JSON.stringify(meta, null, 2) + '\n');
}

/** The dataset's meta file, or undefined when there is none (a dataset made by Megatron's tools). */
export function readMeta(prefix: string): DatasetMeta | undefined {
  const p = metaPath(prefix);
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as DatasetMeta;
  } catch {
    return undefined;
  }
}
