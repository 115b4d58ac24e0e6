// `mathpipe serve CHECKPOINT`: load the checkpoint on the training core, listen, print the base URL on stdout, and
// serve until SIGTERM or Ctrl-C; then stop accepting, let requests in flight finish for up to --grace seconds,
// cancel the rest, and exit 0. A second signal exits at once (130).
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IoError, UsageError } from '../cli/errors.js';
import { info, warn } from '../cli/log.js';
import { onStop } from '../cli/cleanup.js';
import { loadCheckpoint } from '../sample/load.js';
import { backendChoice, initBackend, logBackend } from '../train/backend.js';
import { findCheckpoint } from '../train/checkpoint.js';
import { Engine } from './engine.js';
import { ApiServer } from './server.js';

export interface ServeOptions {
  checkpoint: string;
  tokenizer?: string;
  /** Names clients may give as "model"; default: the checkpoint argument as given (vLLM's default). */
  names: string[];
  host: string;
  port: number;
  apiKey?: string;
  batchSize: number;
  bos: boolean;
  chatTemplate?: string;
  maxBodyBytes: number;
  graceMs: number;
  backend?: string;
  seed: number;
  /** JSONL file of answered requests. */
  log?: string;
}

function version(): string {
  try {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
    return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The base URL clients use: IPv6 hosts in brackets. */
export function baseUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1`;
}

export async function runServe(o: ServeOptions): Promise<void> {
  if (!findCheckpoint(o.checkpoint)) throw new UsageError(`${o.checkpoint}: no checkpoint there (config.json missing)`);
  const backend = await initBackend(backendChoice(o.backend));
  logBackend(backend);
  const loaded = loadCheckpoint(o.checkpoint, o.tokenizer);
  const engine = new Engine(loaded, { names: o.names, batchSize: o.batchSize, bos: o.bos, chatTemplate: o.chatTemplate, seed: o.seed, caps: backend.caps });
  let log: WriteStream | undefined;
  if (o.log) {
    log = createWriteStream(o.log, { flags: 'a' });
    log.on('error', (e) => {
      warn(`--log ${o.log}: ${e.message}; request log off`);
      log = undefined;
    });
  }
  const server = new ApiServer(engine, {
    apiKey: o.apiKey,
    maxBodyBytes: o.maxBodyBytes,
    version: version(),
    onLog: (entry) => log?.write(JSON.stringify(entry) + '\n'),
    onError: (e) => warn(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
  });
  server.server.on('error', (e) => warn(`server: ${e.message}`));

  // Asked to stop (SIGTERM, Ctrl-C): drain. A closed stdout (`| head -1` to read the URL) is no reason to stop.
  const stopped = new Promise<void>((resolve) => {
    const listen = () => onStop((why) => (why === 'pipe' ? listen() : resolve()));
    listen();
  });

  let port: number;
  try {
    port = (await server.listen(o.port, o.host)).port;
  } catch (e) {
    engine.dispose();
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EADDRINUSE' ? 'the address is in use (another server? --port 0 picks a free port)' : err.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : err.message;
    throw new IoError(`cannot listen on ${o.host}:${o.port}: ${why}`);
  }
  const url = baseUrl(o.host, port);
  process.stdout.write(`${url}\n`);
  const id = loaded.identity;
  info(
    `serving ${o.names.map((n) => `"${n}"`).join(', ')} (${id.path}, step ${id.step ?? '?'}; context ${engine.context}, batch ${o.batchSize}; chat template: ${engine.chat.source}) ` +
      `on ${url}${o.apiKey ? ' (API key required)' : ''}`,
  );

  await stopped;
  const inflight = server.inflight;
  info(`stopping: no new requests; ${inflight} in flight${inflight ? `, given up to ${o.graceMs / 1000} s to finish` : ''}`);
  const { cancelled } = await server.shutdown(o.graceMs);
  const s = engine.gen.stats;
  info(`stopped${cancelled ? ` (${cancelled} request${cancelled > 1 ? 's' : ''} cancelled at the end of the grace period)` : ''}: ${s.prompts} prompts, ${s.promptTokens} prompt tokens, ${s.generatedTokens} generated`);
  engine.dispose();
  await new Promise<void>((r) => (log ? log.end(() => r()) : r()));
}
