// Paths inside @tensorflow/tfjs-backend-wasm's wasm-out folder (the Emscripten outputs it ships).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

export function wasmOutFile(name: string): string {
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out', name);
}
