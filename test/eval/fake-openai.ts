// A small OpenAI-compatible server for tests: deterministic canned completions chosen by the last question
// in the prompt, and scripted faults (429 with Retry-After, 503, a response that never comes, a dropped
// connection) for the first requests, to exercise retries and resume.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = '429' | '503' | 'hang' | 'drop' | '400' | '401';

export interface FakeOptions {
  /** Completion for a prompt: called with the prompt (or last user message) and the sample index. */
  answer: (prompt: string, sample: number) => string;
  /** Faults served to the first requests, in order (one per request). */
  faults?: Fault[];
  /** Ignore `n` (like llama.cpp): always one choice. */
  singleChoice?: boolean;
  /** Requests after this many never get an answer (a server that stalls; the client is interrupted). */
  hangAfter?: number;
}

export interface FakeServer {
  url: string;
  /** Bodies of the requests that got a completion. */
  served: Record<string, unknown>[];
  /** Every request received, faults included. */
  received: number;
  /** Authorization header of each served request (undefined when absent). */
  auth: (string | undefined)[];
  close(): Promise<void>;
}

export async function startFakeServer(o: FakeOptions): Promise<FakeServer> {
  const faults = [...(o.faults ?? [])];
  const hung: ServerResponse[] = [];
  const state: FakeServer = { url: '', served: [], received: 0, auth: [], close: async () => {} };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (b: Buffer) => chunks.push(b));
    req.on('end', () => {
      state.received++;
      if (o.hangAfter !== undefined && state.received > o.hangAfter) {
        hung.push(res);
        return;
      }
      const fault = faults.shift();
      if (fault === '429') {
        res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' });
        res.end('{"error":"rate limited"}');
        return;
      }
      if (fault === '503') {
        res.writeHead(503);
        res.end('overloaded');
        return;
      }
      if (fault === '400') {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":"bad request"}');
        return;
      }
      if (fault === '401') {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"error":"invalid api key"}');
        return;
      }
      if (fault === 'hang') {
        hung.push(res);
        return;
      }
      if (fault === 'drop') {
        req.socket.destroy();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      state.served.push(body);
      state.auth.push(req.headers.authorization);
      const chat = req.url?.endsWith('/chat/completions');
      const prompt = chat ? String((body.messages as { content: string }[]).at(-1)!.content) : String(body.prompt);
      const n = o.singleChoice ? 1 : Number(body.n ?? 1);
      const choices = Array.from({ length: n }, (_, i) => {
        const text = o.answer(prompt, i + Number(body.seed ?? 0));
        return chat ? { index: i, message: { role: 'assistant', content: text }, finish_reason: 'stop' } : { index: i, text, finish_reason: 'stop' };
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: chat ? 'chat.completion' : 'text_completion', choices }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${port}/v1`;
  state.close = () =>
    new Promise<void>((r) => {
      for (const h of hung) h.destroy();
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}

/** The last question of a few-shot or zero-shot prompt. */
export function lastQuestion(prompt: string): string {
  const m = [...prompt.matchAll(/(?:Q: |Problem:\n)([\s\S]*?)(?:\nA:|\n\nSolution:|\nSolution:|$)/g)];
  if (m.length) return m[m.length - 1]![1]!.trim();
  return prompt.split('\nPlease reason')[0]!.trim();
}
