// `eval loss`: a checkpoint's loss and perplexity on token datasets, without training. Every window of
// --seq-len tokens is scored once (consecutive, non-overlapping, as Megatron's and nanoGPT's evaluation),
// so numbers compare across checkpoints of one tokenizer.
import { UsageError } from '../cli/errors.js';
import { info } from '../cli/log.js';
import { withWriter } from '../jsonl/index.js';
import { backendChoice, initBackend, logBackend } from '../train/backend.js';
import { findCheckpoint, openCheckpoint } from '../train/checkpoint.js';
import { LlamaModel } from '../train/model.js';
import { evalLoss } from '../train/step.js';
import { datasetWindows, openSources } from '../pretrain/data.js';
import { datasetPrefix } from '../dataset/indexed.js';

export interface LossOptions {
  model: string;
  data: string[];
  seqLen?: number;
  batchSize: number;
  maxWindows?: number;
  backend?: string;
  output?: string;
}

export async function runLoss(o: LossOptions): Promise<void> {
  const dir = findCheckpoint(o.model);
  if (!dir) throw new UsageError(`--model ${o.model}: no checkpoint there (config.json missing)`);
  const ck = openCheckpoint(dir);
  // The length the run trained on is the natural default; a checkpoint from elsewhere gets its context, capped.
  const trained = ck.state?.fingerprint.seq_len;
  const T = o.seqLen ?? (typeof trained === 'number' ? trained : Math.min(1024, ck.config.max_position_embeddings));
  if (T > ck.config.max_position_embeddings) throw new UsageError(`--seq-len ${T} exceeds the model's max_position_embeddings ${ck.config.max_position_embeddings}`);
  const sources = openSources(o.data.map((p) => ({ weight: 1, prefix: datasetPrefix(p) })), T);
  logBackend(await initBackend(backendChoice(o.backend)));
  info(`checkpoint ${dir}${ck.state ? ` (step ${ck.state.step})` : ''}; windows of ${T} tokens`);
  const model = LlamaModel.fromTensors(ck.config, (n) => ck.weights.get(n), `${dir}/model.safetensors`);
  ck.weights.close();
  const step = ck.state?.step ?? null;
  let allTokens = 0;
  let allSum = 0;
  try {
    await withWriter(o.output, async (out) => {
      for (const src of sources) {
        let tokens = 0;
        let sum = 0;
        for (const batch of datasetWindows(src, T, ck.config.vocab_size, o.batchSize, o.maxWindows)) {
          const n = batch.rows * T;
          sum += (await evalLoss(model, [batch], T)) * n;
          tokens += n;
        }
        allTokens += tokens;
        allSum += sum;
        await out.writeJson(record(dir, step, src.prefix, T, tokens, sum));
      }
      if (sources.length > 1) await out.writeJson(record(dir, step, 'all', T, allTokens, allSum));
    });
  } finally {
    model.dispose();
    for (const s of sources) s.ds.close();
  }
  info(`${allTokens} tokens scored: loss ${(allSum / allTokens).toFixed(4)}, perplexity ${Math.exp(allSum / allTokens).toPrecision(5)}`);
}

function record(checkpoint: string, step: number | null, data: string, T: number, tokens: number, sum: number) {
  const loss = sum / tokens;
  return { checkpoint, step, data, seq_len: T, windows: tokens / T, tokens, loss: Number(loss.toFixed(6)), ppl: Number(Math.exp(loss).toPrecision(6)) };
}
