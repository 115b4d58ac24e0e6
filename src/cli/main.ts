// The `mathpipe` entry point. Each stage folder under src/ that has a `command.js` module registers
// itself: its default export is a yargs CommandModule. Command modules import their heavy
// dependencies (tfjs, parsers) lazily inside the handler so `mathpipe --help` stays fast.
import { readdirSync, existsSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Arguments, CommandModule, MiddlewareFunction } from 'yargs';
import { hideBin, yargs } from './yargs.js';
import { CliError, EXIT, systemReason } from './errors.js';
import { configureLog, error } from './log.js';
import { removeTemps, requestStop } from './cleanup.js';
import { noteArgs } from './options.js';

const srcDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(srcDir, '..', '..', 'package.json'), 'utf8')) as { version: string };

/**
 * Every command when yargs must list them (`mathpipe --help`, a typo to correct), else only the one named first:
 * start-up is paid by every stage of a pipeline and every shard of a batch job, so it loads no more than it runs.
 */
async function loadCommands(argv: string[]): Promise<CommandModule[]> {
  const all = readdirSync(srcDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(srcDir, d.name, 'command.js')))
    .map((d) => d.name)
    .sort();
  const names = all.includes(argv[0] ?? '') ? [argv[0]!] : all;
  const mods = await Promise.all(names.map((n) => import(pathToFileURL(join(srcDir, n, 'command.js')).href)));
  return mods.map((m) => m.default as CommandModule);
}

function isEpipe(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: string }).code === 'EPIPE';
}

/**
 * A file-system error that no stage turned into a CliError (a --summary or --report FILE written with
 * writeFileSync, a model path that is a directory): still an I/O failure, so exit 74 with one line
 * naming the path rather than a stack trace.
 */
function systemErrorMessage(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const { code, syscall, path } = e as NodeJS.ErrnoException;
  if (typeof code !== 'string' || typeof syscall !== 'string') return undefined;
  const reason = systemReason(e);
  return path ? `cannot ${syscall} ${path}: ${reason}` : `${syscall} failed: ${reason}`;
}

function installProcessHandlers(): void {
  // `mathpipe ... | head`: the reader went away; that is success, not an error. A command that asked
  // (training) finishes its own way first; later errors of the same closed pipe are ignored.
  let pipeClosed = false;
  process.stdout.on('error', (e) => {
    if (isEpipe(e)) {
      if (pipeClosed) return;
      pipeClosed = true;
      if (requestStop('pipe')) return;
      removeTemps();
      process.exit(EXIT.OK);
    }
    removeTemps();
    error(`stdout: ${e.message}`);
    process.exit(EXIT.IO);
  });
  const interrupted = () => {
    if (requestStop('signal')) return;
    removeTemps();
    process.exit(EXIT.INTERRUPTED);
  };
  process.on('SIGINT', interrupted);
  process.on('SIGTERM', interrupted);
  if (stdoutWasClosed()) {
    // `mathpipe ... >&-`: Node gave fd 1 to /dev/null, so output would vanish with exit 0. Fail on the
    // first write instead, as coreutils do (a command writing only to -o FILE still works).
    process.stdout.write = (() => {
      removeTemps();
      error('cannot write stdout: it is closed');
      process.exit(EXIT.IO);
    }) as typeof process.stdout.write;
  }
}

/**
 * Node reopens a closed fd 1 on /dev/null (read-write) at start-up; a shell's `> /dev/null` opens it
 * write-only. Linux's /proc tells the two apart; elsewhere we cannot, and assume it is open.
 */
function stdoutWasClosed(): boolean {
  try {
    if (readlinkSync('/proc/self/fd/1') !== '/dev/null') return false;
    const flags = /^flags:\s+([0-7]+)/m.exec(readFileSync('/proc/self/fdinfo/1', 'utf8'));
    return flags !== null && (parseInt(flags[1], 8) & 3) === 2; // O_ACCMODE === O_RDWR
  } catch {
    return false;
  }
}

export async function main(argv = hideBin(process.argv)): Promise<void> {
  // Stack traces through src/*.ts cost reading every module's source map at start-up (~0.5 s): only on request.
  if (process.env.MATHPIPE_DEBUG) process.setSourceMapsEnabled(true);
  installProcessHandlers();
  const commandName = argv.find((a) => !a.startsWith('-'));
  configureLog({ prog: commandName ? `mathpipe ${commandName}` : 'mathpipe' });
  const cli = yargs(argv)
    .scriptName('mathpipe')
    .usage('mathpipe <command> [options]\n\nThe DeepSeekMath recipe as composable commands that speak JSONL.')
    .option('quiet', { alias: 'q', type: 'boolean', default: false, global: true, describe: 'No summary on stderr (warnings still show)' })
    .parserConfiguration({ 'populate--': true })
    // yargs passes its instance too (its types do not say so): the aliases, for messages about typed values.
    .middleware(((a: Arguments, y: { getAliases(): Record<string, string[]> }) => {
      configureLog({ quiet: Boolean(a.quiet) });
      noteArgs(argv, y.getAliases());
      // `cmd --bench a b -- in.jsonl`: words after "--" are input files, for every command with [inputs..].
      const rest = a['--'];
      if (Array.isArray(rest) && rest.length && Array.isArray(a.inputs)) a.inputs = [...a.inputs, ...rest.map(String)];
      delete a['--'];
    }) as unknown as MiddlewareFunction)
    .command(await loadCommands(argv))
    .demandCommand(1, 'Name a command: mathpipe --help lists them.')
    .recommendCommands()
    .strict()
    .version(pkg.version)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilogue('Exit codes: 0 ok, 2 usage, 65 bad input data, 74 I/O or network failure, 130 interrupted.\nSee man mathpipe, and man mathpipe-<command>.')
    .fail((msg, err) => {
      // YError is yargs' own validation error (e.g. thrown from an option's coerce): a usage error.
      if (err && err.name !== 'YError') throw err;
      process.stderr.write(`mathpipe: ${msg}\nRun with --help for usage.\n`);
      process.exit(EXIT.USAGE);
    });
  try {
    await cli.parseAsync();
  } catch (e) {
    removeTemps();
    if (isEpipe(e)) process.exit(EXIT.OK);
    if (e instanceof CliError) {
      error(e.message);
      process.exit(e.exitCode);
    }
    const sys = systemErrorMessage(e);
    if (sys) {
      error(sys);
      process.exit(EXIT.IO);
    }
    error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  }
}
