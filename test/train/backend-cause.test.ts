// A wasm backend that cannot start says why: asked for by name it is a usage error carrying tfjs's reason;
// under auto the cpu backend runs and the reason is in the explanation. The failure is provoked by pointing
// tfjs-backend-wasm at a folder without its .wasm files.
import t from 'tap';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { UsageError } from '../../src/cli/errors.js';
import { initBackend } from '../../src/train/backend.js';

t.test('the cause reaches the user', async (t) => {
  process.env.MATHPIPE_THREADS = '1';
  setWasmPaths('/nonexistent-wasm-dir/');
  const e = await initBackend('wasm').then(
    () => undefined,
    (err: unknown) => err,
  );
  t.type(e, UsageError);
  t.match((e as Error).message, /^backend "wasm" could not be initialised: .*nonexistent-wasm-dir/);
  const auto = await initBackend('auto');
  t.equal(auto.name, 'cpu');
  t.match(auto.why, /wasm could not start \(.*nonexistent-wasm-dir.*\), so the pure-JavaScript cpu backend runs/);
});
