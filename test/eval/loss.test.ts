// `eval loss`: scoring a checkpoint without training agrees with pretrain's own validation loss on the same
// windows, counts every window once, and refuses what it cannot score.
import t from 'tap';
import { join } from 'node:path';
import { lines, runCli } from '../helpers.js';
import { writeSyntheticTokens } from '../../fixtures/train/tokens.js';

const SHAPE = ['--seq-len', '32', '--batch-size', '4', '--backend', 'cpu', '-q'];

t.test('eval loss equals pretrain validation loss on the same windows; totals over datasets', async (t) => {
  const dir = t.testdir();
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  writeSyntheticTokens(a, 6000, 300, 1);
  writeSyntheticTokens(b, 1000, 300, 2);
  const ck = join(dir, 'ck');
  const tr = await runCli(['pretrain', '--data', a, '--valid', a, '--eval-batches', '3', '-o', ck, '--steps', '3', '--vocab-size', '320', ...SHAPE]);
  t.equal(tr.code, 0, tr.stderr);
  const valid = lines(tr.stdout).map((l) => JSON.parse(l) as { valid_loss?: number }).filter((m) => m.valid_loss !== undefined).at(-1)!.valid_loss!;

  const r = await runCli(['eval', 'loss', '-m', ck, '--data', a, '--max-windows', '12', '-b', '4', '--backend', 'cpu']);
  t.equal(r.code, 0, r.stderr);
  const [rec] = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, number | string>);
  t.match(rec, { checkpoint: ck, step: 3, data: a, seq_len: 32, windows: 12, tokens: 384 }, 'seq_len defaults to the trained length');
  t.ok(Math.abs((rec.loss as number) - valid) < 1e-4, `eval loss ${rec.loss} = pretrain valid_loss ${valid}`);
  t.ok(Math.abs((rec.ppl as number) - Math.exp(rec.loss as number)) < 1e-3 * (rec.ppl as number));

  // Whole datasets, a batch size that does not divide the window count, and the total line.
  const all = await runCli(['eval', 'loss', '-m', ck, '--data', a, '--data', `${b}.bin`, '-b', '5', '--backend', 'cpu']);
  t.equal(all.code, 0, all.stderr);
  const recs = lines(all.stdout).map((l) => JSON.parse(l) as { data: string; windows: number; tokens: number; loss: number });
  t.same(recs.map((x) => [x.data, x.windows]), [[a, Math.floor(5999 / 32)], [b, Math.floor(999 / 32)], ['all', Math.floor(5999 / 32) + Math.floor(999 / 32)]]);
  const mean = (recs[0].loss * recs[0].tokens + recs[1].loss * recs[1].tokens) / (recs[0].tokens + recs[1].tokens);
  t.ok(Math.abs(recs[2].loss - mean) < 1e-5, 'the total is token-weighted');

  const bad = await runCli(['eval', 'loss', '-m', dir, '--data', a]);
  t.equal(bad.code, 2, 'not a checkpoint');
  const long = await runCli(['eval', 'loss', '-m', ck, '--data', a, '--seq-len', '100000']);
  t.equal(long.code, 2);
  t.match(long.stderr, /exceeds the model's max_position_embeddings/);
  const missing = await runCli(['eval', 'loss', '-m', ck, '--data', join(dir, 'nope')]);
  t.equal(missing.code, 74);
});
