// `mathpipe tokenize`: document JSONL -> Megatron indexed dataset (or id JSONL), on worker threads.
import { UsageError } from '../cli/errors.js';
import { info, warn } from '../cli/log.js';
import { startProgress } from '../cli/progress.js';
import { totalSize } from '../jsonl/input.js';
import { JsonlWriter } from '../jsonl/index.js';
import { datasetPrefix, dtypeForVocab, type TokenDType } from '../dataset/indexed.js';
import { createDataset } from './create.js';
import { loadTokenizer } from '../tokenizer/index.js';
import { lineChunks } from './chunks.js';
import { chunkPool, mapChunks } from './pool.js';
import { ChunkLines } from './records.js';
import { encodeChunk, type EncodeSettings, type ChunkResult } from './encode-chunk.js';
import { writeMeta, tokenizerFields } from './meta.js';

export interface EncodeArgs {
  inputs: string[];
  output?: string;
  tokenizer: string;
  format: 'megatron' | 'jsonl';
  textField: string;
  workers: number;
  eos: boolean;
  bos: boolean;
  allowSpecial: boolean;
  dtype: 'auto' | TokenDType;
  skipInvalid: boolean;
  chunkBytes: number;
}

export async function run(a: EncodeArgs): Promise<void> {
  if (a.format === 'megatron' && !a.output) throw new UsageError('--format megatron writes PREFIX.bin and PREFIX.idx: give -o PREFIX (or use --format jsonl for stdout)');
  const t0 = performance.now();
  const tok = loadTokenizer(a.tokenizer);
  const dtype = a.dtype === 'auto' ? dtypeForVocab(tok.vocabSize) : a.dtype;
  if (dtype === 'uint16' && tok.vocabSize > 65536) throw new UsageError(`--dtype uint16 cannot hold the ${tok.vocabSize} ids of ${tok.name}`);
  const settings: EncodeSettings = {
    textField: a.textField,
    format: a.format,
    dtype,
    eos: a.eos,
    bos: a.bos,
    allowSpecial: a.allowSpecial,
    skipInvalid: a.skipInvalid,
  };
  const prefix = a.output === undefined ? undefined : datasetPrefix(a.output);
  const ds = a.format === 'megatron' ? createDataset(prefix!, dtype) : null;
  const jw = a.format === 'jsonl' ? JsonlWriter.open(a.output) : null;
  const counts = { records: 0, bytes: 0, tokens: 0, skipped: 0 };
  const progress = startProgress('tokenize', () => counts, totalSize(a.inputs));
  const lines = new ChunkLines();
  const pool = chunkPool<ChunkResult>(a.workers, new URL('./worker.js', import.meta.url), { spec: tok.spec, settings }, () => ({
    run: (c) => encodeChunk(tok, c.bytes, c.first, settings),
  }));
  try {
    const chunks = lineChunks(a.inputs, a.chunkBytes, (n) => (counts.bytes += n));
    for await (const { file, res } of mapChunks(pool, chunks)) {
      lines.check(file, res);
      counts.records += res.documents;
      counts.tokens += res.tokens;
      counts.skipped += res.skipped;
      if (ds && res.data && res.lengths) ds.addMany(res.data, res.lengths);
      if (jw && res.jsonl) await jw.write(res.jsonl);
    }
    ds?.close();
    await jw?.close();
  } catch (e) {
    ds?.abort();
    jw?.abort();
    throw e;
  } finally {
    progress.stop();
    await pool.close();
  }
  if (ds) writeMeta(prefix!, { ...tokenizerFields(tok), dtype, documents: counts.records, tokens: counts.tokens, eos_appended: a.eos, bos_prepended: a.bos, sources: a.inputs });
  if (counts.skipped) warn(`skipped ${counts.skipped} invalid record${counts.skipped === 1 ? '' : 's'} (--skip-invalid)`);
  const s = (performance.now() - t0) / 1000;
  const dest = ds ? `${prefix}.bin/.idx (${dtype})` : (a.output ?? 'stdout');
  info(`${counts.records} documents, ${counts.tokens} tokens (${tok.name}) -> ${dest} in ${s.toFixed(1)} s, ${Math.round(counts.tokens / s)} tokens/s`);
  tok.free();
}
