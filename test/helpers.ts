// Shared test helpers. Tests are compiled to dist/test/..., so paths are resolved from the repo root.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
}

export const ROOT = findRoot();
export const BIN = join(ROOT, 'bin', 'mathpipe');

/** `../shared/data/<rel>` when it exists (developer machines and CI), else undefined (a user's clone). */
export function sharedData(rel = ''): string | undefined {
  const p = resolve(ROOT, '..', 'shared', 'data', rel);
  return existsSync(p) ? p : undefined;
}

/**
 * Child commands run without tap's NODE_OPTIONS: its processinfo loader hooks require() and makes
 * `bin/mathpipe` (an ES module with top-level await) fail with ERR_REQUIRE_CYCLE_MODULE. tap re-adds the
 * variable to any env given to spawn(), so it is removed by `env -u` inside the child instead.
 */
export const NO_TAP_HOOKS = ['-u', 'NODE_OPTIONS'];

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Wait for a child and collect its output. */
function collect(p: ChildProcess): Promise<RunResult> {
  return new Promise((res, rej) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout?.on('data', (b: Buffer) => out.push(b));
    p.stderr?.on('data', (b: Buffer) => err.push(b));
    p.on('error', rej);
    p.on('close', (code, signal) =>
      res({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

/** Run the real `mathpipe` binary. */
export function runCli(
  args: string[],
  opts: { input?: string | Buffer; env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const p = spawn('env', [...NO_TAP_HOOKS, process.execPath, BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: opts.timeoutMs ?? 120_000,
  });
  const done = collect(p);
  p.stdin.on('error', () => {}); // the command may exit before reading all input
  p.stdin.end(opts.input ?? '');
  return done;
}

/** Run a shell pipeline (for `| head` style tests); `mathpipe` in the string is the real binary. */
export function runShell(script: string, opts: { cwd?: string } = {}): Promise<RunResult> {
  return collect(
    spawn('env', [...NO_TAP_HOOKS, 'bash', '-o', 'pipefail', '-c', script], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, PATH: `${join(ROOT, 'bin')}:${process.env.PATH}` },
    }),
  );
}

export function lines(s: string): string[] {
  return s.split('\n').filter((l) => l !== '');
}
