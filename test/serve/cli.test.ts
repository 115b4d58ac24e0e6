// `mathpipe serve` as a process: --help, usage errors, the URL on stdout with --port 0, an API key from the
// environment, `mathpipe eval run --api` end to end against it, a port in use (exit 74), and SIGTERM: requests in
// flight finish and the process exits 0; past --grace they are cancelled (an error event, a 503) and it still
// exits 0.
import t from 'tap';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../src/train/backend.js';
import { BIN, NO_TAP_HOOKS, ROOT, lines, runCli } from '../helpers.js';
import { tinyConfig, writeTinyCheckpoint } from '../sample/fixtures.js';

let dir = '';
let ck = '';
t.before(async () => {
  await initBackend('wasm');
  dir = t.testdir();
  ck = join(dir, 'ck');
  await writeTinyCheckpoint(ck, { step: 1, config: tinyConfig({ max_position_embeddings: 4096 }) });
});

interface Served {
  pid: number;
  url: string;
  port: number;
  stderr: () => string;
  stdout: () => string;
  /** Resolves when it exits; ms: since term() (or since it started). */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  term: () => void;
}

const alive: Served[] = [];
t.teardown(() => {
  for (const s of alive) {
    try {
      process.kill(s.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
});

/** Start `mathpipe serve`; resolves once it printed its URL. */
function serve(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const p = spawn('env', [...NO_TAP_HOOKS, process.execPath, BIN, 'serve', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let killedAt = Date.now();
  p.stdout.on('data', (b: Buffer) => (out += b));
  p.stderr.on('data', (b: Buffer) => (err += b));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((res) => p.on('close', (code, signal) => res({ code, signal, ms: Date.now() - killedAt })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in time: ${err}`)), 120_000);
    p.stdout.on('data', () => {
      const m = /^(http:\/\/127\.0\.0\.1:(\d+)\/v1)\n/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      const s: Served = {
        pid: p.pid!,
        url: m[1],
        port: Number(m[2]),
        stderr: () => err,
        stdout: () => out,
        exit,
        term: () => {
          killedAt = Date.now();
          p.kill('SIGTERM');
        },
      };
      alive.push(s);
      resolve(s);
    });
    void exit.then((e) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${e.code}) before listening: ${err}`));
    });
  });
}

/** A streamed completion read chunk by chunk: `first` resolves at the first event, `all` with every event. */
function stream(url: string, body: object, key?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  let first!: () => void;
  const started = new Promise<void>((r) => (first = r));
  const all = (async () => {
    const res = await fetch(`${url}/completions`, { method: 'POST', headers, body: JSON.stringify({ ...body, stream: true }) });
    const events: string[] = [];
    let buf = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        events.push(buf.slice(0, i).replace(/^data: /, ''));
        buf = buf.slice(i + 2);
        first();
      }
    }
    return events;
  })();
  return { started, all };
}

/** Whether a TCP connection to the port is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

async function until(f: () => boolean, ms = 30_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

t.test('--help explains itself with examples; usage errors are exit 2', async (t) => {
  const h = await runCli(['serve', '--help']);
  t.equal(h.code, 0);
  for (const o of ['--host', '--port', '--api-key', '--served-model-name', '--batch-size', '--max-request-size', '--grace', '--chat-template', '--log', 'MATHPIPE_API_KEY', 'Examples:', 'SIGTERM']) t.match(h.stdout, o);
  t.equal((await runCli(['serve'])).code, 2);
  const port = await runCli(['serve', ck, '--port', '70000']);
  t.equal(port.code, 2);
  t.match(port.stderr, /--port must be an integer in 0\.\.65535/);
  t.equal((await runCli(['serve', ck, '--grace', '-1'])).code, 2);
  t.equal((await runCli(['serve', ck, '--max-request-size', 'lots'])).code, 2);
  const none = await runCli(['serve', join(dir, 'nothing')]);
  t.equal(none.code, 2);
  t.match(none.stderr, /nothing: no checkpoint there/);
});

t.test('eval run --api end to end; a port in use; SIGTERM lets requests in flight finish, exit 0', async (t) => {
  const log = join(dir, 'requests.jsonl');
  const s = await serve([ck, '--port', '0', '--served-model-name', 'tiny', '--batch-size', '8', '--log', log, '--backend', 'wasm'], { MATHPIPE_API_KEY: 'k3y' });
  t.equal(s.stdout(), `${s.url}\n`, 'stdout: the base URL only');
  await until(() => /serving/.test(s.stderr()));
  t.match(s.stderr(), /serving "tiny" .* on http:\/\/127\.0\.0\.1:\d+\/v1 \(API key required\)/);

  // eval: its prompts to the server's /v1/completions and, with --chat, /v1/chat/completions.
  const items = join(dir, 'items.jsonl');
  writeFileSync(items, ['{"question":"What is 1+1?","answer":"2"}', '{"question":"What is 2+3?","answer":"5"}', '{"question":"What is 3+3?","answer":"6"}'].join('\n') + '\n');
  const common = ['--api', s.url, '--model', 'tiny', '--input', items, '--style', 'instruct', '--max-tokens', '12', '--api-key-env', 'SERVE_TEST_KEY', '--retries', '0', '-q'];
  const env = { SERVE_TEST_KEY: 'k3y' };
  const out = join(dir, 'out.jsonl');
  const r = await runCli(['eval', 'run', ...common, '-o', out, '--summary', join(dir, 's.json')], { env });
  t.equal(r.code, 0, r.stderr);
  const recs = lines(readFileSync(out, 'utf8')).map((l) => JSON.parse(l) as { id: string; responses: string[]; finish_reasons: string[] });
  t.equal(recs.length, 3);
  // The responses are the server's greedy completions of eval's prompts.
  const prompts = lines((await runCli(['eval', 'prompts', '--input', items, '--style', 'instruct'])).stdout).map((l) => JSON.parse(l) as { prompt: string });
  for (const [i, p] of prompts.entries()) {
    const res = await fetch(`${s.url}/completions`, { method: 'POST', headers: { authorization: 'Bearer k3y' }, body: JSON.stringify({ model: 'tiny', prompt: p.prompt, max_tokens: 12, temperature: 0 }) });
    const body = (await res.json()) as { choices: { text: string }[] };
    t.equal(recs[i].responses[0], body.choices[0].text, `item ${i}: the server's completion`);
  }
  const summary = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')) as { questions: number; requests: number; errors: unknown[] };
  t.match(summary, { questions: 3, requests: 3, errors: [] });
  const chat = await runCli(['eval', 'run', ...common, '--chat', '--n', '2', '--temperature', '0.7', '--no-cache', '-o', join(dir, 'chat.jsonl')], { env });
  t.equal(chat.code, 0, chat.stderr);
  t.equal(lines(readFileSync(join(dir, 'chat.jsonl'), 'utf8')).filter((l) => (JSON.parse(l) as { responses: string[] }).responses.length === 2).length, 3);
  const nokey = await runCli(['eval', 'run', ...common, '--no-cache'], { env: { SERVE_TEST_KEY: '' } });
  t.not(nokey.code, 0, 'without the key eval fails');
  t.match(nokey.stderr, /401/);

  // Another server on the same port: exit 74, saying why.
  const busy = await runCli(['serve', ck, '--port', String(s.port), '--backend', 'wasm']);
  t.equal(busy.code, 74);
  t.match(busy.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${s.port}: the address is in use`));

  // SIGTERM while a request streams: no new connections, the request finishes, exit 0.
  const st = stream(s.url, { model: 'tiny', prompt: 'Hello', n: 2, max_tokens: 1500, ignore_eos: true }, 'k3y');
  await st.started;
  s.term();
  t.ok(await until(() => /stopping: no new requests; 1 in flight/.test(s.stderr())), s.stderr());
  t.ok(await refused(s.port), 'new connections are refused while it drains');
  const events = await st.all;
  t.equal(events.at(-1), '[DONE]');
  const finishes = events.slice(0, -1).map((e) => JSON.parse(e) as { choices: { index: number; finish_reason: string | null }[] }).flatMap((e) => e.choices.filter((c) => c.finish_reason));
  t.same(finishes.map((c) => [c.index, c.finish_reason]).sort(), [[0, 'length'], [1, 'length']], 'both choices ran to max_tokens');
  const exit = await s.exit;
  t.equal(exit.code, 0, s.stderr());
  t.match(s.stderr(), /stopped: \d+ prompts/);
  t.notMatch(s.stderr(), /cancelled/);
  t.ok(existsSync(log));
  const logged = lines(readFileSync(log, 'utf8')).map((l) => JSON.parse(l) as { path: string; status: number; completion_tokens?: number });
  t.ok(logged.some((l) => l.path === '/v1/chat/completions' && l.status === 200));
  t.ok(logged.some((l) => l.status === 401));
  t.ok(logged.some((l) => l.completion_tokens === 3000), 'the drained request is logged whole');
});

t.test('SIGTERM past --grace: requests in flight are cancelled (an error event, a 503), exit 0', async (t) => {
  const s = await serve([ck, '--port', '0', '--grace', '0.3', '--batch-size', '8', '--backend', 'wasm']);
  // The stream fills every slot for a long while; the second request waits in the queue behind it.
  const st = stream(s.url, { prompt: 'Hello', n: 8, max_tokens: 4000, ignore_eos: true });
  await st.started;
  const queued = fetch(`${s.url}/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'Hi', max_tokens: 4000, ignore_eos: true }) });
  await new Promise((r) => setTimeout(r, 100));
  s.term();
  const events = await st.all;
  t.equal(events.at(-1), '[DONE]');
  t.match(JSON.parse(events.at(-2)!), { error: { code: 'shutting_down', type: 'server_error' } }, 'the stream ends with an error event');
  const res = await queued;
  t.equal(res.status, 503);
  t.match(await res.json(), { error: { code: 'shutting_down' } });
  const exit = await s.exit;
  t.equal(exit.code, 0, s.stderr());
  t.ok(exit.ms < 20_000, `exited ${exit.ms} ms after SIGTERM`);
  t.match(s.stderr(), /given up to 0\.3 s to finish/);
  t.match(s.stderr(), /2 requests cancelled at the end of the grace period/);
});
