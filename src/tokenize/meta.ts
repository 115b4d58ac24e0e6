// PREFIX.meta.json next to PREFIX.bin/.idx: which tokenizer made the ids and how documents were
// delimited, so `tokenize inspect` can decode and `pretrain` can check its vocabulary without being told.
// Megatron-LM ignores the file.
import { readFileSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import type { Tokenizer } from '../tokenizer/index.js';
import type { TokenDType } from '../dataset/indexed.js';

export interface DatasetMeta {
  format: 'mathpipe-dataset';
  version: 1;
  /** loadTokenizer() argument: a built-in name or an absolute tokenizer directory. */
  tokenizer: string;
  tokenizer_name: string;
  vocab_size: number;
  eos_id: number;
  bos_id: number;
  dtype: TokenDType;
  documents: number;
  tokens: number;
  eos_appended: boolean;
  bos_prepended: boolean;
  sources: string[];
  /** Set by `tokenize mix`: tokens and documents taken from each source. */
  mixture?: unknown;
}

export function metaPath(prefix: string): string {
  return `${prefix}.meta.json`;
}

export function writeMeta(
  prefix: string,
  m: { tokenizer: Tokenizer; dtype: TokenDType; documents: number; tokens: number; eos: boolean; bos: boolean; sources: string[]; mixture?: unknown },
): void {
  const meta: DatasetMeta = {
    format: 'mathpipe-dataset',
    version: 1,
    tokenizer: m.tokenizer.spec,
    tokenizer_name: m.tokenizer.name,
    vocab_size: m.tokenizer.vocabSize,
    eos_id: m.tokenizer.eos,
    bos_id: m.tokenizer.bos,
    dtype: m.dtype,
    documents: m.documents,
    tokens: m.tokens,
    eos_appended: m.eos,
    bos_prepended: m.bos,
    sources: m.sources,
    ...(m.mixture !== undefined ? { mixture: m.mixture } : {}),
  };
  const tmp = `${metaPath(prefix)}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(meta, null, 2) + '\n');
  renameSync(tmp, metaPath(prefix));
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
