// Each step of the loop runs as its own mathpipe command, exactly as a user or a Makefile would run
// it (the man page lists the same commands), so a step behaves the same inside and outside the loop.
// A step's stdout (metrics, when it has any) goes to a log file beside its outputs.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { CliError, IoError } from '../../cli/errors.js';

export async function mathpipe(args: string[], log: string, verbose: boolean): Promise<void> {
  const fd = openSync(log, 'w');
  try {
    const child = spawn(process.execPath, [process.argv[1]!, ...(verbose ? [] : ['-q']), ...args], { stdio: ['ignore', fd, 'inherit'] });
    const code = await new Promise<number | null>((res, rej) => {
      child.on('error', rej);
      child.on('close', (c) => res(c));
    });
    if (code !== 0) throw new CliError(`step failed (exit ${code}): mathpipe ${args.join(' ')}`, code ?? 1);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new IoError(`cannot run mathpipe ${args[0]}: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}
