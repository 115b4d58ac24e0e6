// Exit codes are part of the interface (man mathpipe, EXIT STATUS): scripts and Makefiles branch on them.
export const EXIT = {
  OK: 0,
  USAGE: 2,
  DATA: 65, // EX_DATAERR: bad input data; the message names the file and line or record id
  IO: 74, // EX_IOERR: I/O or network failure after retries
  INTERRUPTED: 130,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.USAGE);
  }
}

/** Bad input data. `where` is "file:line" or a record id, always shown first so it can be grepped. */
export class DataError extends CliError {
  constructor(
    readonly where: string,
    readonly detail: string,
  ) {
    super(`${where}: ${detail}`, EXIT.DATA);
  }
}

export class IoError extends CliError {
  constructor(message: string) {
    super(message, EXIT.IO);
  }
}

/** Location string used in every data error: "file:line". stdin is shown as "<stdin>". */
export function at(file: string, line: number): string {
  return `${file === '-' ? '<stdin>' : file}:${line}`;
}

/** Location for an error about the input as a whole (e.g. it holds nothing): the files, or "<stdin>". */
export function inputsWhere(paths: string[]): string {
  const named = paths.filter((p) => p !== '-');
  return named.length === paths.length && named.length ? named.join(', ') : [...named, '<stdin>'].join(', ');
}

/** A system error's reason without its code and path ("ENOENT: no such file or directory, open 'x'" -> "no such file or directory"). */
export function systemReason(e: Error): string {
  return e.message.replace(/^E[A-Z]+: /, '').replace(/, \w+ '[^']*'$/, '');
}
