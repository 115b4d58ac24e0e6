// fastText's lookup tables for sigmoid and log. They are part of its behaviour, not just an
// optimisation: one-vs-all and negative-sampling models report table sigmoids as probabilities, so
// matching fastText's numbers to 1e-4 needs the same table and the same float32 index arithmetic.
const SIGMOID_TABLE_SIZE = 512;
const MAX_SIGMOID = 8;
const LOG_TABLE_SIZE = 512;
const f = Math.fround;

const tSigmoid = new Float32Array(SIGMOID_TABLE_SIZE + 1);
for (let i = 0; i <= SIGMOID_TABLE_SIZE; i++) {
  const x = f((i * 2 * MAX_SIGMOID) / SIGMOID_TABLE_SIZE - MAX_SIGMOID);
  tSigmoid[i] = 1 / (1 + f(Math.exp(-x)));
}
const tLog = new Float32Array(LOG_TABLE_SIZE + 1);
for (let i = 0; i <= LOG_TABLE_SIZE; i++) tLog[i] = Math.log(f((i + 1e-5) / LOG_TABLE_SIZE));

export function sigmoid(x: number): number {
  if (x < -MAX_SIGMOID) return 0;
  if (x > MAX_SIGMOID) return 1;
  const i = Math.trunc(f(f(f(f(x) + MAX_SIGMOID) * SIGMOID_TABLE_SIZE) / MAX_SIGMOID / 2));
  return tSigmoid[i];
}

export function tableLog(x: number): number {
  if (x > 1) return 0;
  return tLog[Math.trunc(f(x) * LOG_TABLE_SIZE)];
}

/** fastText's std_log: the log used for prediction scores (note the +1e-5). */
export function stdLog(x: number): number {
  return f(Math.log(x + 1e-5));
}
