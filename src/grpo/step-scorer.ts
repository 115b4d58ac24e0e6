// Process rewards from an outside scorer: a command started once, which reads one JSON request per line on stdin
// and answers each with one JSON line on stdout, in order:
//   -> {"question": ..., "gold": ..., "completion": ..., "steps": ["step 1 text", ...], "correct": true}
//   <- {"step_rewards": [0.9, 0.2, ...]}      one number per step, or null to leave the output out
// Any process reward model fits behind it (a Python PRM, a served model, a rule). A reply that is not one number
// per step is bad data (exit 65, naming the reply); a scorer that exits or closes its output is an I/O failure.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DataError, IoError } from '../cli/errors.js';

export interface StepRequest {
  question: string;
  gold: string;
  completion: string;
  steps: string[];
  correct: boolean;
}

export class StepScorer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: { resolve(v: string): void; reject(e: Error): void }[] = [];
  private readonly lines: string[] = [];
  private ended: Error | null = null;
  private replies = 0;
  private stderrTail = '';

  constructor(readonly command: string) {
    this.child = spawn('sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin.on('error', () => {});
    this.child.stderr.on('data', (b: Buffer) => (this.stderrTail = (this.stderrTail + b.toString()).slice(-2000)));
    createInterface({ input: this.child.stdout }).on('line', (l) => {
      const w = this.waiting.shift();
      if (w) w.resolve(l);
      else this.lines.push(l);
    });
    const fail = (why: string) => {
      this.ended ??= new IoError(`--step-scorer "${command}" ${why}${this.stderrTail.trim() ? `: ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
      for (const w of this.waiting.splice(0)) w.reject(this.ended);
    };
    this.child.on('error', (e) => fail(`could not start (${e.message})`));
    this.child.on('close', (code, signal) => fail(signal ? `was killed by ${signal}` : `exited with status ${code}`));
  }

  private next(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Step rewards for each request (null: leave that output out). */
  async score(reqs: StepRequest[]): Promise<(number[] | null)[]> {
    if (this.ended) throw this.ended;
    this.child.stdin.write(reqs.map((r) => JSON.stringify(r) + '\n').join(''));
    const out: (number[] | null)[] = [];
    for (const r of reqs) {
      const line = await this.next();
      const where = `--step-scorer reply ${++this.replies}`;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (e) {
        throw new DataError(where, `invalid JSON (${(e as Error).message}): ${line.slice(0, 200)}`);
      }
      const rewards = (v as { step_rewards?: unknown } | null)?.step_rewards;
      if (rewards === null) {
        out.push(null);
        continue;
      }
      if (!Array.isArray(rewards) || !rewards.every((x) => typeof x === 'number' && Number.isFinite(x)))
        throw new DataError(where, `expected {"step_rewards": [numbers] or null}, got ${line.slice(0, 200)}`);
      if (rewards.length !== r.steps.length) throw new DataError(where, `${rewards.length} step rewards for an output of ${r.steps.length} steps`);
      out.push(rewards as number[]);
    }
    return out;
  }

  close(): void {
    this.child.stdin.end();
    if (this.child.exitCode === null) this.child.kill();
  }
}
