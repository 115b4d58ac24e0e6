// Installing works as a user would do it: `npm pack`, then `npm install -g --prefix TMP mathpipe-X.tgz` from the
// npm cache (--offline), and the installed `mathpipe` runs: --help, a command's --help, the man pages from
// package.json's "man" field, eval's built-in prompts (and the hint for the few-shot ones, which `eval fetch prompts`
// downloads), and training, whose native kernels are either built or named in a warning with `npm rebuild mathpipe`
// (npm 11 runs no install scripts of a global install unless allowed).
// The install takes one to three minutes on the 2-core machine, so it runs only with MATHPIPE_TEST_INSTALL=1
// (offline: it skips when the dependencies are not in the npm cache) or MATHPIPE_TEST_INSTALL=network (fetches them).
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runShell } from '../helpers.js';

const mode = process.env.MATHPIPE_TEST_INSTALL;
// npm install extracts ~110 packages (tfjs-wasm among them): minutes on a loaded machine, past tap's default limit.
t.setTimeout(30 * 60_000);
const npm = await runShell('npm --version');
if (!mode) t.plan(0, 'set MATHPIPE_TEST_INSTALL=1 (npm cache) or =network to pack and install mathpipe into a temporary prefix (minutes)');
else if (npm.code !== 0) t.plan(0, 'npm is not installed');
else {
  const dir = mkdtempSync(join(tmpdir(), 'mp-install-'));
  const prefix = join(dir, 'prefix');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; man: string[] };
  const tarball = join(dir, `${pkg.name}-${pkg.version}.tgz`);
  // The installed copy, not this checkout's bin/: PATH starts with the prefix's bin.
  const inPrefix = (script: string) => runShell(`export PATH=${JSON.stringify(join(prefix, 'bin'))}:$PATH; cd ${JSON.stringify(dir)}; ${script}`);

  t.test('npm pack, then npm install -g from the tarball', async (t) => {
    // --ignore-scripts: the suite runs on a built tree; `prepare` (the esbuild step) would only rebuild dist/.
    const pack = await runShell(`npm pack ${JSON.stringify(ROOT)} --pack-destination ${JSON.stringify(dir)} --ignore-scripts --silent`);
    t.equal(pack.code, 0, pack.stderr);
    t.ok(existsSync(tarball), 'the tarball');
    const list = await runShell(`tar tzf ${JSON.stringify(tarball)}`);
    t.notMatch(list.stdout, /package\/fixtures\/out\//, 'demo outputs are not packed');
    t.match(list.stdout, /package\/dist\/src\/cli\/main\.js/);
    const flags = mode === 'network' ? '--prefer-offline' : '--offline';
    const inst = await runShell(`npm install -g --prefix ${JSON.stringify(prefix)} ${flags} --no-audit --no-fund ${JSON.stringify(tarball)}`);
    if (inst.code !== 0 && /ENOTCACHED/.test(inst.stderr)) {
      t.comment('skipped: dependencies are not in the npm cache (MATHPIPE_TEST_INSTALL=network fetches them)');
      return;
    }
    t.equal(inst.code, 0, inst.stderr.slice(-2000));
  });

  t.test('the installed mathpipe', async (t) => {
    if (!existsSync(join(prefix, 'bin', 'mathpipe'))) return void t.comment('skipped: not installed');
    const help = await inPrefix('mathpipe --help');
    t.equal(help.code, 0);
    for (const c of ['mine', 'classify', 'decontam', 'tokenize', 'pretrain', 'sft', 'grpo', 'sample', 'eval']) t.match(help.stdout, new RegExp(`mathpipe ${c}\\b`), c);
    const sample = await inPrefix('mathpipe sample --help');
    t.equal(sample.code, 0);
    t.match(sample.stdout, /Examples:/);

    const man1 = join(prefix, 'share', 'man', 'man1');
    for (const m of pkg.man) t.ok(existsSync(join(man1, m.replace(/^man\//, ''))), `man page ${m}`);
    t.same(readdirSync(man1).sort(), pkg.man.map((m) => m.replace(/^man\//, '')).sort(), 'every man page, nothing else');

    writeFileSync(join(dir, 'q.jsonl'), '{"id":"a","question":"What is 2+3?","answer":"5"}\n');
    const instruct = await inPrefix('mathpipe eval prompts --input q.jsonl --style instruct');
    t.equal(instruct.code, 0, instruct.stderr);
    t.match(instruct.stdout, /What is 2\+3\?\\nPlease reason step by step, and put your final answer within \\\\boxed\{\}/, 'the built-in zero-shot prompt');
    const cot = await inPrefix('HOME=$PWD/home XDG_CACHE_HOME=$PWD/cache mathpipe eval prompts --input q.jsonl --style cot');
    t.equal(cot.code, 2, 'few-shot prompts not fetched yet: a usage error...');
    t.match(cot.stderr, /mathpipe eval fetch prompts/, '...that says how to get them');

    // Training: the native kernels are built (scripts allowed) or a warning says how to build them.
    const addon = existsSync(join(prefix, 'lib', 'node_modules', pkg.name, 'dist', 'native', 'mathpipe.node'));
    const train = await inPrefix(`printf '%s\\n' '{"text":"one two three four five six seven eight nine ten"}' '{"text":"2 + 3 = 5 and 4 + 4 = 8"}' > d.jsonl
mathpipe -q tokenize train -v 280 -o tok d.jsonl && mathpipe -q tokenize -t tok -o toks d.jsonl
mathpipe pretrain --data toks -o ckpt --model tiny --steps 1 --seq-len 8 --batch-size 1 --save-interval 0`);
    t.equal(train.code, 0, train.stderr.slice(-2000));
    if (addon) t.match(train.stderr, /native kernels \(/, 'native kernels built at install and running');
    else t.match(train.stderr, /native kernels: not built.*npm rebuild mathpipe/, 'no addon: the warning names npm rebuild mathpipe');
  });
}
