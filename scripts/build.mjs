// Transpile every TypeScript file (src, test, bench, fixtures) to dist/ one file at a time.
// esbuild does no type checking: `npm run typecheck` (tsc --noEmit) is the gate for that.
import { build } from 'esbuild';
import { readdirSync, statSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['src', 'test', 'bench', 'fixtures'];
const entryPoints = [];
// Outputs of benches and demos (bench/out, fixtures/out) and any node_modules below them are not sources.
const SKIP = new Set(['node_modules', 'out']);
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!SKIP.has(name)) walk(p);
    } else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) entryPoints.push(p);
  }
}
for (const r of roots) if (existsSync(r)) walk(r);
// Bundled, not transpiled alone: modules whose dependencies are many small files (see each file's comment).
const BUNDLED = ['src/cli/yargs.ts'];
// Only inside a bundle (as an alias), never a module of its own.
const ALIASED = ['src/cli/string-width.ts'];
if (process.argv.includes('--clean')) rmSync('dist', { recursive: true, force: true });
const common = { outdir: 'dist', outbase: '.', format: 'esm', platform: 'node', target: 'node20', sourcemap: true, logLevel: 'warning' };
await build({ ...common, entryPoints: entryPoints.filter((p) => ![...BUNDLED, ...ALIASED].includes(p.split('\\').join('/'))) });
await build({
  ...common,
  entryPoints: BUNDLED,
  bundle: true,
  // yargs measures help text with string-width, whose load-time Unicode tables cost more than yargs itself.
  alias: { 'string-width': './src/cli/string-width.ts' },
  // Bundled CommonJS dependencies call require(): give them one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});
