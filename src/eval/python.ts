// Running model-written Python (program-of-thought and tool-integrated reasoning).
//
// Isolation, honestly: each program runs in a fresh `python3 -I` process, in an empty temporary working
// directory with a minimal environment, under a wall-clock timeout (SIGKILL), an address-space limit
// (RLIMIT_AS), a CPU-time limit, a file-size limit (RLIMIT_FSIZE) and, where unprivileged user
// namespaces work (`unshare -rn`), in its own network namespace with no interfaces up: no network.
// It is NOT a sandbox: the program can read any file the user can, write outside its directory, and
// start processes (which the timeout does not reap if they detach). Run untrusted models in a container.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ExecOptions {
  timeoutMs: number;
  memoryMb: number;
  /** Characters of output kept (the tail is cut, with a marker). */
  maxOutput: number;
  python?: string;
}

export interface ExecResult {
  /** stdout, plus the last traceback line on error; truncated to maxOutput. */
  output: string;
  ok: boolean;
  timedOut: boolean;
}

const PRELUDE = `
import resource, sys
mem = int(sys.argv[1]) * 1024 * 1024
cpu = int(sys.argv[2])
for lim, v in ((resource.RLIMIT_AS, mem), (resource.RLIMIT_CPU, cpu), (resource.RLIMIT_FSIZE, 16 * 1024 * 1024)):
    try:
        resource.setrlimit(lim, (v, v))
    except (ValueError, OSError):
        pass
src = sys.stdin.read()
sys.argv = ['program']
exec(compile(src, '<program>', 'exec'), {'__name__': '__main__'})
`;

let netIsolation: boolean | null = null;

/** Whether `unshare -rn` works here (probed once). */
export function hasNetworkIsolation(): boolean {
  if (netIsolation === null) {
    const r = spawnSync('unshare', ['-rn', 'true'], { stdio: 'ignore', timeout: 5000 });
    netIsolation = r.status === 0;
  }
  return netIsolation;
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

function runOnce(code: string, o: ExecOptions): Promise<ExecResult> {
  const dir = mkdtempSync(join(tmpdir(), 'mathpipe-py-'));
  const python = o.python ?? 'python3';
  const args = ['-I', '-c', PRELUDE, String(o.memoryMb), String(Math.max(1, Math.ceil(o.timeoutMs / 1000)))];
  const [cmd, argv] = hasNetworkIsolation() ? ['unshare', ['-rn', python, ...args]] : [python, args];
  return new Promise((resolve) => {
    const p = spawn(cmd, argv, {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1', OPENBLAS_NUM_THREADS: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let timedOut = false;
    const cap = o.maxOutput * 4;
    p.stdout.on('data', (b: Buffer) => {
      if (out.length < cap) out += b.toString('utf8');
    });
    p.stderr.on('data', (b: Buffer) => {
      if (err.length < cap) err += b.toString('utf8');
    });
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, o.timeoutMs);
    p.stdin.on('error', () => {});
    p.stdin.end(code);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      let output = out.trimEnd();
      if (timedOut) output = `${output}\nTimeoutError: execution exceeded ${o.timeoutMs / 1000}s`.trim();
      else if (!ok) {
        const lines = err.trim().split('\n');
        output = `${output}\n${lines[lines.length - 1] ?? 'error'}`.trim();
      }
      resolve({ output: truncate(output, o.maxOutput), ok: ok && !timedOut, timedOut });
    };
    p.on('error', (e) => {
      err = e.message;
      done(false);
    });
    p.on('close', (code) => done(code === 0));
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
