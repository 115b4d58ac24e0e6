// Build the optional native kernels (native/*.cc -> dist/native/mathpipe.node) with the system C++ compiler.
// node-gyp is not used: it downloads Node's headers, and installs here may be offline; Node-API's headers come
// from the node-api-headers package (or the Node installation). A failed build is a warning, never an error:
// training then runs on tfjs-wasm's own kernels.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const out = 'dist/native/mathpipe.node';
const sources = readdirSync('native').filter((f) => f.endsWith('.cc')).map((f) => join('native', f));
const deps = [...sources, ...readdirSync('native').filter((f) => f.endsWith('.h')).map((f) => join('native', f)), 'scripts/build-native.mjs'];

function headerDir() {
  try {
    const dir = createRequire(import.meta.url)('node-api-headers').include_dir;
    if (existsSync(join(dir, 'node_api.h'))) return dir;
  } catch {
    // fall through to the Node installation's headers
  }
  const dir = resolve(dirname(process.execPath), '..', 'include', 'node');
  return existsSync(join(dir, 'node_api.h')) ? dir : undefined;
}

const fresh = existsSync(out) && deps.every((f) => statSync(f).mtimeMs <= statSync(out).mtimeMs);
if (process.env.MATHPIPE_NATIVE === '0') {
  console.error('build-native: skipped (MATHPIPE_NATIVE=0)');
} else if (!fresh) {
  const cxx = process.env.CXX || 'g++';
  const include = headerDir();
  if (!include) {
    console.error('build-native: warning: Node-API headers not found; training will use the wasm kernels only');
  } else {
    mkdirSync(dirname(out), { recursive: true });
    // -march=native: the addon is built where it runs (like a source install of PyTorch or fastText).
    // -Wno-maybe-uninitialized: gcc 12 warns inside its own AVX-512 headers (_mm512_undefined_*) wherever the
    // sampler's intrinsics are inlined, pages of noise at every install.
    const args = ['-O3', '-march=native', '-fno-math-errno', '-fopenmp', '-std=c++17', '-fPIC', '-shared', '-Wall', '-Wno-maybe-uninitialized',
      `-I${include}`, '-o', `${out}.tmp`, ...sources, '-ldl'];
    try {
      execFileSync(cxx, args, { stdio: ['ignore', 'inherit', 'inherit'] });
      renameSync(`${out}.tmp`, out);
    } catch (e) {
      rmSync(`${out}.tmp`, { force: true });
      console.error(`build-native: warning: ${cxx} failed (${e.status == null ? (e.code ?? e.message) : `exit status ${e.status}`}); training will use the wasm kernels only`);
    }
  }
}
