// eval's response cache answers only for the weights that made the answers: a checkpoint re-trained in the same
// directory (same name) must miss, the same weights must hit.
import t from 'tap';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CachedGenerator } from '../../src/eval/cache.js';
import { weightsVersion } from '../../src/sample/load.js';
import type { Completion, GenerateRequest, TextGenerator } from '../../src/model/types.js';

class Fake implements TextGenerator {
  calls = 0;
  constructor(readonly name: string, readonly version: string | undefined, private readonly answer: string) {}
  async generate(): Promise<Completion[]> {
    this.calls++;
    return [{ text: this.answer, finishReason: 'stop' }];
  }
}

const req: GenerateRequest = { prompt: 'What is 2+2?', maxTokens: 8, temperature: 0, n: 1, seed: 0 };

t.test('a cached answer is reused for the same weights and not for other weights of the same name', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mp-cache-'));
  const path = join(dir, 'cache.jsonl');
  const first = new Fake('ckpt', 'v1', 'four');
  t.equal((await new CachedGenerator(first, path).generate(req))[0]!.text, 'four');
  const same = new Fake('ckpt', 'v1', 'other');
  const again = new CachedGenerator(same, path);
  t.equal((await again.generate(req))[0]!.text, 'four', 'same weights: from the cache');
  t.equal(same.calls, 0);
  const retrained = new Fake('ckpt', 'v2', 'five');
  t.equal((await new CachedGenerator(retrained, path).generate(req))[0]!.text, 'five', 'other weights: asked again');
  t.equal(retrained.calls, 1);
  const api = new Fake('ckpt', undefined, 'api');
  t.equal((await new CachedGenerator(api, path).generate(req))[0]!.text, 'api', 'a name without a version is its own key');
});

t.test('weightsVersion changes with the step and with the weight files, not otherwise', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mp-wv-'));
  writeFileSync(join(dir, 'model.safetensors'), 'aaaa');
  utimesSync(join(dir, 'model.safetensors'), 1000, 1000);
  writeFileSync(join(dir, 'config.json'), '{}');
  const v = weightsVersion(dir, 10);
  t.equal(weightsVersion(dir, 10), v, 'stable');
  t.not(weightsVersion(dir, 11), v, 'another step');
  writeFileSync(join(dir, 'config.json'), '{"x":1}');
  t.equal(weightsVersion(dir, 10), v, 'only weight files count');
  writeFileSync(join(dir, 'model.safetensors'), 'bbbb');
  utimesSync(join(dir, 'model.safetensors'), 2000, 2000);
  t.not(weightsVersion(dir, 10), v, 'rewritten weights');
});
