// Running model-written Python (program-of-thought and tool-integrated reasoning).
//
// Isolation, honestly (man mathpipe-eval, SANDBOX): each program runs in a fresh `python3 -I` process in
// an empty temporary directory, with an allow-listed environment (never the parent's: it holds API keys),
// under a wall-clock limit, RLIMIT_AS, RLIMIT_CPU and RLIMIT_FSIZE, in its own process group that is
// killed whole at the deadline and when the program exits. Where unprivileged user namespaces work it also
// gets a network namespace with no interface up (no network) and a PID namespace with a fresh /proc, so it
// cannot read this process's /proc/PID/environ and nothing it starts outlives it. It is NOT a sandbox for
// files: the program can read any file the user can and write outside its directory.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { UsageError } from '../cli/errors.js';
import { warn } from '../cli/log.js';

/** auto: the best isolation available, with a warning naming what is missing; strict: refuse without all of it; none: none, silently. */
export type SandboxMode = 'auto' | 'strict' | 'none';

export interface ExecOptions {
  /** Wall-clock limit of the program, counted from when the interpreter is ready (start-up is not counted). */
  timeoutMs: number;
  memoryMb: number;
  /** Characters of output kept (the tail is cut, with a marker). */
  maxOutput: number;
  python?: string;
  sandbox?: SandboxMode;
}

export interface ExecResult {
  /** stdout, plus the last traceback line on error; truncated to maxOutput. */
  output: string;
  ok: boolean;
  timedOut: boolean;
}

// The prelude sets the limits, reads the program, then writes one byte to fd 3 (and closes it, so the
// program's children do not inherit it): the wall clock starts there, so a slow interpreter start-up
// (pyenv shims, a loaded machine) never turns a correct program into a timeout.
const PRELUDE = `
import os, resource, sys
mem = int(sys.argv[1]) * 1024 * 1024
cpu = int(sys.argv[2])
for lim, v in ((resource.RLIMIT_AS, mem), (resource.RLIMIT_CPU, cpu), (resource.RLIMIT_FSIZE, 16 * 1024 * 1024)):
    try:
        resource.setrlimit(lim, (v, v))
    except (ValueError, OSError):
        pass
src = sys.stdin.read()
sys.argv = ['program']
code = compile(src, '<program>', 'exec')
os.write(3, b'.')
os.close(3)
exec(code, {'__name__': '__main__'})
`;

/** Time the interpreter may take to become ready; generous, since it only guards against a hung start. */
const STARTUP_MS = 60_000;
/** After the program exits, how long its output pipes may stay open (held by a process that escaped the group). */
const DRAIN_MS = 1000;

export interface Isolation {
  /** Command prefix that runs a program isolated. */
  prefix: string[];
  network: boolean;
  /** A PID namespace with a fresh /proc: this process's environment is out of reach, children die with the program. */
  proc: boolean;
  /** Why the missing parts are missing (unshare's complaint). */
  why?: string;
}

let probed: Isolation | undefined;

function tryUnshare(args: string[]): string | null {
  const r = spawnSync('unshare', [...args, 'true'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  if (r.status === 0) return null;
  return r.error ? r.error.message : r.stderr.toString().trim() || `exit status ${r.status}`;
}

/** What isolation `unshare` gives here (probed once). */
export function isolation(): Isolation {
  if (probed) return probed;
  // Mapped to a non-root id inside: root there could unmount the fresh /proc and see ours beneath it.
  const uid = process.getuid?.() || 65534;
  const gid = process.getgid?.() || 65534;
  const full = [`--map-user=${uid}`, `--map-group=${gid}`, '--net', '--pid', '--fork', '--kill-child', '--mount-proc'];
  const whyFull = tryUnshare(full);
  if (whyFull === null) return (probed = { prefix: ['unshare', ...full], network: true, proc: true });
  const whyNet = tryUnshare(['-rn']);
  if (whyNet === null) return (probed = { prefix: ['unshare', '-rn'], network: true, proc: false, why: whyFull });
  return (probed = { prefix: [], network: false, proc: false, why: whyNet });
}

let warned = false;

/**
 * The command prefix for a sandbox mode: strict throws (exit 2) when isolation is incomplete, auto warns
 * once per process naming what is missing. Called before the first request so that a refusal costs nothing.
 */
export function sandboxPrefix(mode: SandboxMode): string[] {
  if (mode === 'none') return [];
  const iso = isolation();
  if (iso.network && iso.proc) return iso.prefix;
  const missing = [
    ...(iso.network ? [] : ['no network namespace: programs can reach the network']),
    "no PID namespace: programs can read this process's environment (API keys included) through /proc/PPID/environ and leave processes behind",
  ].join('; ');
  if (mode === 'strict') throw new UsageError(`--sandbox strict: model-written programs cannot be isolated here (${missing}; unshare: ${iso.why}); run in a container, or use --sandbox auto`);
  if (!warned) {
    warned = true;
    warn(`model-written programs run with incomplete isolation (${missing}; unshare: ${iso.why}); see man mathpipe-eval, SANDBOX`);
  }
  return iso.prefix;
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}\n...[output truncated]`;
}

// At most one program per core at a time: responses arrive `--concurrency` at a time, each with n samples.
let running = 0;
const waiting: (() => void)[] = [];
const slots = Math.max(1, availableParallelism());

export async function runPython(code: string, o: ExecOptions): Promise<ExecResult> {
  // A released slot passes straight to the next waiter, so `running` never overshoots.
  if (running >= slots) await new Promise<void>((r) => waiting.push(r));
  else running++;
  try {
    return await runOnce(code, o);
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is already gone
  }
}

// Programs still running when this process exits (Ctrl-C, an error elsewhere): their groups are detached
// from ours, so the terminal's SIGINT does not reach them; kill them and remove their directories here.
const live = new Map<number, string>();
process.on('exit', () => {
  for (const [pid, dir] of live) {
    killGroup(pid);
    rmSync(dir, { recursive: true, force: true });
  }
});

function runOnce(code: string, o: ExecOptions): Promise<ExecResult> {
  const prefix = sandboxPrefix(o.sandbox ?? 'auto');
  const dir = mkdtempSync(join(tmpdir(), 'mathpipe-py-'));
  const cpuSeconds = Math.ceil(o.timeoutMs / 1000) + 1; // a backstop; the wall clock is the limit
  const [cmd, ...argv] = [...prefix, o.python ?? 'python3', '-I', '-c', PRELUDE, String(o.memoryMb), String(cpuSeconds)];
  return new Promise((resolve) => {
    const p = spawn(cmd!, argv, {
      cwd: dir,
      // Allow-listed, never the parent's environment: that holds API keys.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TMPDIR: dir, LANG: 'C.UTF-8', OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      // Its own process group, so that one kill reaches everything it started (in a PID namespace the
      // kernel also ends what left the group when the program exits).
      detached: true,
    });
    if (p.pid !== undefined) live.set(p.pid, dir);
    const kill = () => p.pid !== undefined && killGroup(p.pid);
    let out = '';
    let err = '';
    let timedOut = false;
    let startFailed = false;
    let exited = false;
    let finished = false;
    let status: number | null = null;
    let drain: NodeJS.Timeout | undefined;
    const cap = o.maxOutput * 4;
    p.stdout!.on('data', (b: Buffer) => {
      if (out.length < cap) out += b.toString('utf8');
    });
    p.stderr!.on('data', (b: Buffer) => {
      if (err.length < cap) err += b.toString('utf8');
    });
    const ready = p.stdio[3] as Readable;
    let timer = setTimeout(() => {
      startFailed = true;
      kill();
    }, STARTUP_MS);
    ready.once('data', () => {
      if (exited) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, o.timeoutMs);
    });
    ready.on('error', () => {});
    p.stdin!.on('error', () => {});
    p.stdin!.end(code);
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(drain);
      if (p.pid !== undefined) live.delete(p.pid);
      rmSync(dir, { recursive: true, force: true });
      const ok = status === 0 && !timedOut && !startFailed;
      let output = out.trimEnd();
      if (timedOut) output = `${output}\nTimeoutError: execution exceeded ${o.timeoutMs / 1000}s`.trim();
      else if (startFailed) output = `${output}\nTimeoutError: the interpreter did not start within ${STARTUP_MS / 1000}s`.trim();
      else if (!ok) {
        const lines = err.trim().split('\n');
        output = `${output}\n${lines[lines.length - 1] || 'error'}`.trim();
      }
      resolve({ output: truncate(output, o.maxOutput), ok, timedOut: timedOut || startFailed });
    };
    p.on('error', (e) => {
      err = e.message;
      done();
    });
    p.on('exit', (code) => {
      exited = true;
      status = code;
      clearTimeout(timer);
      // What the program started goes with it. A process that left the group (setsid, without a PID
      // namespace) may hold the pipes open for ever: read what is there, then stop waiting.
      kill();
      drain = setTimeout(() => {
        for (const s of [p.stdout, p.stderr, ready]) s?.destroy();
        done();
      }, DRAIN_MS);
    });
    p.on('close', done);
  });
}

/** Python code blocks (```python ... ``` or ``` ... ```) in order. */
export function codeBlocks(text: string): string[] {
  return [...text.matchAll(/```(?:python|py)?[ \t]*\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** The program of a program-of-thought completion, made to print its answer (DeepSeek's PAL protocols). */
export function potProgram(completion: string, format: 'gsm' | 'math'): string {
  if (format === 'gsm') {
    const blocks = codeBlocks(completion);
    const body = blocks.length ? blocks.join('\n') : completion;
    return `${body}\n\nprint(solution())\n`;
  }
  const blocks = codeBlocks(completion);
  const body = blocks.length ? blocks : [completion];
  // The exemplars put the imports in a block after the program: run them first.
  const isImports = (b: string) => b.trim().split('\n').every((l) => /^\s*(from\s+\S+\s+)?import\s|^\s*$/.test(l));
  const ordered = [...body.filter(isImports), ...body.filter((b) => !isImports(b))];
  return `${ordered.join('\n')}\n\nprint(answer)\n`;
}

/** The answer printed by a program: its last non-empty output line. */
export function programAnswer(r: ExecResult): string | null {
  if (!r.ok) return null;
  const lines = r.output.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.length ? lines[lines.length - 1]! : null;
}
