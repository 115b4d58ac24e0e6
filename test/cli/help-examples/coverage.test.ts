// Every command group with --help examples has a test file that runs them, and every rule in examples.ts still
// matches an example (a rule for an example that changed would silently stop applying).
import t from 'tap';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectExamples, RULES, SETUP } from './examples.js';

const here = dirname(fileURLToPath(import.meta.url));
const examples = await collectExamples();
t.ok(examples.length > 50, `${examples.length} examples collected`);
for (const g of new Set(examples.map((e) => e.path.split(' ')[0]!))) {
  t.ok(existsSync(join(here, `${g}.test.js`)), `${g}: a test file runs its examples`);
  t.ok(SETUP[g] !== undefined, `${g}: fixtures for its examples`);
}
for (const key of Object.keys(RULES)) t.ok(examples.some((e) => e.cmd === key), `rule still matches an example: ${key}`);
