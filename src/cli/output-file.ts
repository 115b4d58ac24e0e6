// Every file mathpipe writes goes through here, so one set of rules keeps `-o` from destroying anything
// (coreutils' `sort -o` is the bar):
//   - special files (devices, FIFOs, sockets, /dev/std*, /dev/fd/*, /proc/*) are opened and written in
//     place, in order, without a temporary file: renaming over them would replace the node itself;
//   - a symlink is followed and its target written atomically, so the link stays a link;
//   - a regular file (or a new one) is written as TARGET.tmp-PID and renamed over TARGET when complete,
//     so an interrupted run never leaves a file that looks finished;
//   - a directory is refused.
// Temporaries are registered with cleanup (removed on every exit path), and the temporaries of dead
// processes (SIGKILL leaves them) are collected when a later run writes the same output.
import { closeSync, constants, existsSync, ftruncateSync, lstatSync, openSync, readdirSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { CliError, IoError, systemReason } from './errors.js';
import { trackTemp, untrackTemp } from './cleanup.js';
import { addonWith } from '../util/native-addon.js';

export interface OutputTarget {
  /** The path as given, for messages. */
  readonly path: string;
  /** Where the bytes end up: the path with symlinks followed. */
  readonly target: string;
  /** Written in place (a device, FIFO, socket or /dev, /proc path): no temporary, no rename. */
  readonly direct: boolean;
}

const IN_PLACE = /^\/(dev|proc)\//;

/** Follow symlinks as far as they go, also when the last one dangles (its target is the file to create). */
function followLinks(path: string): string {
  let p = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      // Absent: resolve the parent's links, so `dir-link/new-file` lands in the real directory.
      try {
        return join(realpathSync(dirname(p)), basename(p));
      } catch {
        return p;
      }
    }
    if (!st.isSymbolicLink()) return p;
    // /dev/stdout -> /proc/self/fd/1 -> "pipe:[123]": stop at the magic links instead of chasing them.
    if (IN_PLACE.test(p)) return p;
    const to = readlinkSync(p);
    p = isAbsolute(to) ? to : resolve(dirname(p), to);
  }
  throw new IoError(`cannot write ${path}: too many levels of symbolic links`);
}

/** Decide how `path` is written. Throws IoError for a directory, unless `directory` (a checkpoint) is what is written. */
export function outputTarget(path: string, o: { directory?: boolean } = {}): OutputTarget {
  const literal = resolve(path);
  if (IN_PLACE.test(literal)) return { path, target: literal, direct: true };
  const target = followLinks(path);
  if (IN_PLACE.test(target)) return { path, target, direct: true };
  let st;
  try {
    st = statSync(target);
  } catch {
    return { path, target, direct: false };
  }
  if (st.isDirectory()) {
    if (o.directory) return { path, target, direct: false };
    throw new IoError(`cannot write ${path}: is a directory`);
  }
  return { path, target, direct: !st.isFile() };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove TARGET.tmp-PID files and directories whose process is gone (left by SIGKILL or a power cut). */
export function removeStaleTemps(target: string): void {
  const dir = dirname(target);
  const prefix = `${basename(target)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const pid = Number(n.slice(prefix.length));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !pidAlive(pid)) rmSync(join(dir, n), { recursive: true, force: true });
  }
}

/**
 * One output being written: write to `writePath` (opened with `flags`), then commit() or abort().
 * A path given with -o goes through here whatever writes it (JSONL, models, indexes, reports).
 */
export class OutputFile {
  readonly writePath: string;
  /** 'a' for in-place special files (`-o /dev/stdout >> log` keeps what is there), 'w' for temporaries. */
  readonly flags: 'a' | 'w';
  private done = false;

  constructor(readonly out: OutputTarget) {
    if (out.direct) {
      this.writePath = out.target;
      this.flags = 'a';
      return;
    }
    removeStaleTemps(out.target);
    this.writePath = `${out.target}.tmp-${process.pid}`;
    this.flags = 'w';
    trackTemp(this.writePath);
  }

  static begin(path: string): OutputFile {
    return new OutputFile(outputTarget(path));
  }

  get path(): string {
    return this.out.path;
  }

  /** Move the finished temporary into place. */
  commit(): void {
    if (this.done) return;
    this.done = true;
    if (this.out.direct) return;
    try {
      renameSync(this.writePath, this.out.target);
    } catch (e) {
      this.removeTemp();
      throw new IoError(`cannot write ${this.out.path}: ${systemReason(e as Error)}`);
    }
    untrackTemp(this.writePath);
  }

  /** Give up: the temporary goes, the target is left as it was. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    if (!this.out.direct) this.removeTemp();
  }

  private removeTemp(): void {
    rmSync(this.writePath, { force: true, recursive: true });
    untrackTemp(this.writePath);
  }
}

/**
 * Write a file through a descriptor by the rules above: `body` writes, then the output is committed; if
 * anything throws, the temporary goes and the error is an IoError naming the path (CliErrors pass as they are).
 */
export function writeOutputFd(path: string, body: (fd: number) => void, what = ''): void {
  const f = OutputFile.begin(path);
  try {
    const fd = openSync(f.writePath, f.flags);
    try {
      body(fd);
    } finally {
      closeSync(fd);
    }
    f.commit();
  } catch (e) {
    f.abort();
    if (e instanceof CliError) throw e;
    throw new IoError(`cannot write ${what}${path}: ${systemReason(e as Error)}`);
  }
}

/** Below this a buffered write is as fast: O_DIRECT pays off on the 2 GB of a paper-size classifier. */
const DIRECT_BYTES = 64 << 20;

interface DirectWriter {
  writeDirect(fd: number, parts: Uint8Array[]): number;
}

/**
 * Write `parts` one after another as the file `path`, by the rules above. Large files written to a temporary go
 * around the page cache (O_DIRECT through the native addon, native/direct-write.cc): in a virtual machine the
 * first touch of 2 GB of fresh page cache costs more than the disk. Without the addon, below DIRECT_BYTES, to a
 * device, or on a file system that refuses O_DIRECT (tmpfs), the parts are written the ordinary way.
 */
export function writeOutputParts(path: string, parts: Uint8Array[], what = '', directMin = DIRECT_BYTES): 'direct' | 'buffered' {
  const f = OutputFile.begin(path);
  const bytes = parts.reduce((n, p) => n + p.byteLength, 0);
  const native = !f.out.direct && bytes >= directMin && process.env.MATHPIPE_DIRECT_IO !== '0' ? addonWith<DirectWriter>('writeDirect') : undefined;
  try {
    if (native && writeDirect(native, f.writePath, parts, bytes)) {
      f.commit();
      return 'direct';
    }
    const fd = openSync(f.writePath, f.flags);
    try {
      for (const p of parts) writeAll(fd, p);
    } finally {
      closeSync(fd);
    }
    f.commit();
    return 'buffered';
  } catch (e) {
    f.abort();
    if (e instanceof CliError) throw e;
    throw new IoError(`cannot write ${what}${path}: ${systemReason(e as Error)}`);
  }
}

/** The O_DIRECT write; false when the file system refuses it (nothing is left to undo: the caller rewrites). */
function writeDirect(native: DirectWriter, file: string, parts: Uint8Array[], bytes: number): boolean {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DIRECT, 0o666);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EINVAL') return false;
    throw e;
  }
  try {
    native.writeDirect(fd, parts);
    // The last block was padded to the disk's alignment.
    ftruncateSync(fd, bytes);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EINVAL') return false;
    throw e;
  } finally {
    closeSync(fd);
  }
}

/** Every byte of `data` at the descriptor's position (writeSync may write less than asked). */
export function writeAll(fd: number, data: Uint8Array): void {
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
}

/** Write a whole file (a report, a summary, metadata) by the rules above. */
export function writeOutputFile(path: string, data: string | Uint8Array): void {
  writeOutputFd(path, (fd) => writeAll(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data));
}

/**
 * Fail before long work starts when an output cannot be created (a missing or read-only directory, a file
 * in the way). A directory output (a checkpoint) has its missing parents made, so the nearest existing
 * ancestor is probed; a file output needs its directory to exist.
 */
export function checkWritable(path: string, o: { directory?: boolean } = {}): void {
  const t = outputTarget(path, o);
  if (t.direct) return;
  let dir = dirname(t.target);
  if (o.directory) while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const probe = join(dir, `${basename(t.target)}.tmp-${process.pid}`);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (e) {
    throw new IoError(`cannot write ${path}: ${systemReason(e as Error)}`);
  }
  rmSync(probe, { force: true });
}
