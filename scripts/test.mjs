// Run the tap suite (compiled tests under dist/test) and end with one plain line that any CI can read:
// "tests: N passed, N failed, N skipped". Extra arguments select test files.
import { spawn } from 'node:child_process';

const files = process.argv.slice(2);
const args = ['tap', ...(files.length ? files : ['dist/test/**/*.test.js'])];
const child = spawn('npx', args, { stdio: ['inherit', 'pipe', 'inherit'] });
let tail = '';
child.stdout.on('data', (b) => {
  process.stdout.write(b);
  tail = (tail + b.toString()).slice(-4000);
});
child.on('close', (code) => {
  const m = tail.match(/# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?(?:, skip: (\d+))?(?:, todo: (\d+))?/);
  const pass = m ? Number(m[2] ?? 0) : 0;
  const fail = m ? Number(m[3] ?? 0) : code === 0 ? 0 : 1;
  const skip = m ? Number(m[4] ?? 0) : 0;
  process.stdout.write(`\ntests: ${pass} passed, ${fail} failed, ${skip} skipped\n`);
  process.exit(code ?? 1);
});
