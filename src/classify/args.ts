// Training hyper-parameters with fastText's names, defaults (those of `fasttext supervised`) and
// on-disk layout (Args::save: 12 int32 fields and one float64, in this order).
export type LossName = 'hs' | 'ns' | 'softmax' | 'ova';

/** fastText's enum values (loss_name, model_name) as stored in the file. */
const LOSS_CODE: Record<LossName, number> = { hs: 1, ns: 2, softmax: 3, ova: 4 };
export const MODEL_SUP = 3;

export interface Args {
  dim: number;
  ws: number;
  epoch: number;
  minCount: number;
  minCountLabel: number;
  neg: number;
  wordNgrams: number;
  loss: LossName;
  /** fastText model_name: 1 cbow, 2 skipgram, 3 supervised. Only supervised models are used here. */
  model: number;
  bucket: number;
  minn: number;
  maxn: number;
  lrUpdateRate: number;
  t: number;
  lr: number;
  thread: number;
  seed: number;
  label: string;
}

export function supervisedDefaults(): Args {
  return {
    dim: 100,
    ws: 5,
    epoch: 5,
    minCount: 1,
    minCountLabel: 0,
    neg: 5,
    wordNgrams: 1,
    loss: 'softmax',
    model: MODEL_SUP,
    bucket: 2000000,
    minn: 0,
    maxn: 0,
    lrUpdateRate: 100,
    t: 1e-4,
    lr: 0.1,
    thread: 12,
    seed: 0,
    label: '__label__',
  };
}

/** fastText drops the hash table when nothing would be hashed into it (Args::parseArgs). */
export function effectiveBucket(a: Args): number {
  return a.wordNgrams <= 1 && a.maxn === 0 ? 0 : a.bucket;
}

export const ARGS_BYTES = 12 * 4 + 8;

export function writeArgs(a: Args, buf: Buffer, off: number): number {
  const ints = [a.dim, a.ws, a.epoch, a.minCount, a.neg, a.wordNgrams, LOSS_CODE[a.loss], a.model, a.bucket, a.minn, a.maxn, a.lrUpdateRate];
  for (const v of ints) off = buf.writeInt32LE(v, off);
  return buf.writeDoubleLE(a.t, off);
}

/** Parse the args block; returns null for an unknown loss code (the caller names the file). */
export function readArgs(buf: Buffer, off: number): Args | null {
  const i = (k: number) => buf.readInt32LE(off + 4 * k);
  const loss = (Object.keys(LOSS_CODE) as LossName[]).find((k) => LOSS_CODE[k] === i(6));
  if (!loss) return null;
  return {
    ...supervisedDefaults(),
    dim: i(0),
    ws: i(1),
    epoch: i(2),
    minCount: i(3),
    neg: i(4),
    wordNgrams: i(5),
    loss,
    model: i(7),
    bucket: i(8),
    minn: i(9),
    maxn: i(10),
    lrUpdateRate: i(11),
    t: buf.readDoubleLE(off + 48),
  };
}
