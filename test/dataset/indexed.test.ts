import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IndexedDatasetWriter, IndexedDataset, dtypeForVocab, encodeIndex } from '../../src/dataset/indexed.js';

t.test('dtype follows Megatron best_fitting_dtype', async (t) => {
  t.equal(dtypeForVocab(50257), 'uint16');
  t.equal(dtypeForVocab(65499), 'uint16');
  t.equal(dtypeForVocab(65500), 'int32');
  t.equal(dtypeForVocab(102400), 'int32');
});

t.test('.idx golden bytes for two documents of lengths 3 and 2 (uint16)', async (t) => {
  const hex = encodeIndex('uint16', [3, 2]).toString('hex');
  const expected =
    '4d4d49444944580000' + // magic
    '0100000000000000' + // version 1
    '08' + // dtype uint16
    '0200000000000000' + // 2 sequences
    '0300000000000000' + // 3 document indices
    '03000000' + '02000000' + // lengths
    '0000000000000000' + '0600000000000000' + // byte pointers
    '0000000000000000' + '0100000000000000' + '0200000000000000'; // document indices
  t.equal(hex, expected);
});

t.test('write, read back sequences and cross-document windows', async (t) => {
  const dir = t.testdir();
  for (const dtype of ['uint16', 'int32'] as const) {
    const prefix = join(dir, `ds-${dtype}`);
    const w = IndexedDatasetWriter.create(prefix, dtype);
    const docs = [[1, 2, 3], [], [65535 % (dtype === 'uint16' ? 65536 : 1 << 20), 7], [9]];
    for (const d of docs) w.add(d);
    w.close();
    const ds = IndexedDataset.open(prefix + '.bin');
    t.equal(ds.dtype, dtype);
    t.equal(ds.numSequences, 4);
    t.equal(ds.numTokens, 6);
    t.same(Array.from(ds.sequence(2)), docs[2]);
    t.same(Array.from(ds.window(2, 3)), [3, docs[2][0], 7]);
    t.equal(readFileSync(prefix + '.idx').length, 34 + 4 * 4 + 8 * 4 + 8 * 5);
    ds.close();
  }
});

t.test('token ids out of range and corrupt files are reported', async (t) => {
  const dir = t.testdir();
  const w = IndexedDatasetWriter.create(join(dir, 'x'), 'uint16');
  t.throws(() => w.add([70000]), /does not fit uint16/);
  w.abort();
  writeFileSync(join(dir, 'bad.idx'), 'hello');
  writeFileSync(join(dir, 'bad.bin'), '');
  t.throws(() => IndexedDataset.open(join(dir, 'bad')), /not a Megatron MMIDIDX index/);
  const good = IndexedDatasetWriter.create(join(dir, 'trunc'), 'int32');
  good.add([1, 2, 3, 4]);
  good.close();
  writeFileSync(join(dir, 'trunc.bin'), Buffer.alloc(3));
  t.throws(() => IndexedDataset.open(join(dir, 'trunc')), /truncated/);
});
