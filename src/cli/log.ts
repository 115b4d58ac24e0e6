// stderr is for people: warnings and one final summary line per command, nothing else in pipelines.
let quiet = false;
let prog = 'mathpipe';

export function configureLog(opts: { quiet?: boolean; prog?: string }): void {
  if (opts.quiet !== undefined) quiet = opts.quiet;
  if (opts.prog !== undefined) prog = opts.prog;
}

export function isQuiet(): boolean {
  return quiet;
}

/** Warnings are shown even with --quiet: they report lost or doubtful data. */
export function warn(msg: string): void {
  process.stderr.write(`${prog}: warning: ${msg}\n`);
}

/** The end-of-run summary; --quiet hides it. */
export function info(msg: string): void {
  if (!quiet) process.stderr.write(`${prog}: ${msg}\n`);
}

export function error(msg: string): void {
  process.stderr.write(`${prog}: ${msg}\n`);
}
