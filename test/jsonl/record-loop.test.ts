// The record loop under grade, decontam and classify predict: what it owns (writing in order, the side output
// only when asked for, the counts, closing the pool, removing partial outputs on failure), with a fake pool.
import t from 'tap';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonlBatches, runRecordLoop, type JsonlRecord, type OrderedPool } from '../../src/jsonl/index.js';

/** An in-thread "pool" that answers each batch with its records' ids, and remembers being closed. */
function fakePool(): OrderedPool<JsonlRecord[], string[]> & { closed: boolean } {
  return {
    closed: false,
    async *map(batches) {
      for await (const b of batches) yield b.map((r) => String(r.value.id));
    },
    async close() {
      this.closed = true;
    },
  };
}

function input(dir: string): string {
  const f = join(dir, 'in.jsonl');
  writeFileSync(f, ['{"id":1}', '{"id":2}', 'not json', '{"id":3}'].join('\n') + '\n');
  return f;
}

t.test('writes results in order, side lines only with a side output, counts, closes the pool', async (t) => {
  const dir = t.testdir();
  const f = input(dir);
  const out = join(dir, 'out.jsonl');
  const side = join(dir, 'side.jsonl');
  for (const sidePath of [side, undefined]) {
    const pool = fakePool();
    const end = await runRecordLoop({
      label: 'test',
      inputs: [f],
      output: out,
      side: sidePath,
      batches: (stats) => readJsonlBatches([f], { skipInvalid: true, stats }),
      pool,
      emit: (ids) => ({ out: ids.filter((id) => id !== '2').map((id) => `{"kept":${id}}`), side: ids.filter((id) => id === '2').map((id) => `{"dropped":${id}}`) }),
    });
    t.equal(readFileSync(out, 'utf8'), '{"kept":1}\n{"kept":3}\n');
    t.equal(end.written, 2);
    t.match(end.stats, { records: 3, skipped: 1 });
    t.ok(pool.closed, 'pool closed');
  }
  t.equal(readFileSync(side, 'utf8'), '{"dropped":2}\n', 'the side output of the first run');
});

t.test('encoded lines pass through as bytes', async (t) => {
  const dir = t.testdir();
  const f = input(dir);
  const out = join(dir, 'out.jsonl');
  await runRecordLoop({
    label: 'test',
    inputs: [f],
    output: out,
    batches: (stats) => readJsonlBatches([f], { skipInvalid: true, stats }),
    pool: fakePool(),
    emit: (ids) => ({ out: { bytes: Buffer.from(ids.map((id) => `${id}\n`).join('')), lines: ids.length } }),
  });
  t.equal(readFileSync(out, 'utf8'), '1\n2\n3\n');
});

t.test('a failing decision: the error goes on, no partial output or side output is left, the pool is closed', async (t) => {
  const dir = t.testdir();
  const f = input(dir);
  const pool = fakePool();
  await t.rejects(
    runRecordLoop({
      label: 'test',
      inputs: [f],
      output: join(dir, 'out.jsonl'),
      side: join(dir, 'side.jsonl'),
      batches: (stats) => readJsonlBatches([f], { skipInvalid: true, stats }),
      pool,
      emit: () => {
        throw new Error('bad decision');
      },
    }),
    /bad decision/,
  );
  t.ok(pool.closed, 'pool closed');
  t.same(readdirSync(dir).sort(), ['in.jsonl'], 'no output, no side output, no temporaries');
  t.notOk(existsSync(join(dir, 'out.jsonl')));
});
