// One WARC record -> one document record (or the reason it was skipped). Pure: no I/O, so it is easy to test.
import { getDomain, getHostname } from 'tldts';
import { BodyTooLarge, parseHttpResponse } from './http.js';
import { decodeHtml } from './charset.js';
import { extractHtml } from './extract.js';
import { looksMathy } from './prefilter.js';
import { guessLanguage } from './language.js';
import type { WarcRecord } from './warc.js';

export interface Doc {
  id: string;
  url: string;
  domain: string | null;
  date: string | null;
  language?: string;
  title?: string;
  text: string;
  provenance: { file: string; offset: number; length: number };
}

export type SkipReason = 'other-type' | 'http-status' | 'not-html' | 'prefiltered' | 'empty';

export interface DocOptions {
  prefilterMath: boolean;
  minChars: number;
  /** Largest HTTP body after content decoding (`--max-record-size`). */
  maxRecordSize: number;
}

/** A record that has a readable HTTP/HTML problem: reported per record like framing errors. */
export class RecordProblem extends Error {}

const ISO3: Record<string, string> = {
  eng: 'en', spa: 'es', fra: 'fr', deu: 'de', ita: 'it', por: 'pt', nld: 'nl', rus: 'ru', ukr: 'uk', pol: 'pl',
  zho: 'zh', jpn: 'ja', kor: 'ko', ara: 'ar', heb: 'he', ell: 'el', hin: 'hi', tha: 'th', tur: 'tr', vie: 'vi',
  ces: 'cs', swe: 'sv', dan: 'da', fin: 'fi', nor: 'no', hun: 'hu', ron: 'ro', ind: 'id', fas: 'fa',
};

function stripAngles(s: string | undefined): string {
  if (!s) return '';
  const t = s.trim();
  return t.startsWith('<') && t.endsWith('>') ? t.slice(1, -1) : t;
}

function normDate(s: string | undefined): string | null {
  if (!s) return null;
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/.test(s)) return s;
  // Older crawls (ClueWeb, WARC/0.18) write other forms; keep the instant when it parses, else the raw value.
  const compact = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)$/.exec(s);
  const t = compact ? Date.UTC(+compact[1]!, +compact[2]! - 1, +compact[3]!, +compact[4]!, +compact[5]!, +compact[6]!) : Date.parse(s);
  return Number.isNaN(t) ? s : new Date(t).toISOString().replace('.000Z', 'Z');
}

export function domainOf(url: string): string | null {
  return getDomain(url) ?? getHostname(url) ?? null;
}

function isHtmlType(ct: string | undefined, body: Buffer): boolean {
  if (ct) {
    const t = ct.split(';')[0]!.trim().toLowerCase();
    if (t === 'text/html' || t === 'application/xhtml+xml' || t.endsWith('+xml') && t.includes('xhtml')) return true;
    if (t && t !== 'application/octet-stream' && t !== 'text/plain' && t !== 'unknown/unknown') return false;
  }
  // No usable type: sniff like browsers do.
  const head = body.toString('latin1', 0, Math.min(body.length, 512)).trimStart().slice(0, 20).toLowerCase();
  return head.startsWith('<!doctype html') || head.startsWith('<html') || head.startsWith('<head');
}

export function recordToDoc(rec: WarcRecord, file: string, opts: DocOptions): Doc | SkipReason {
  const h = rec.headers;
  const type = (h.get('warc-type') ?? '').toLowerCase();
  const url = stripAngles(h.get('warc-target-uri'));
  let text: string;
  let title = '';
  let language: string | undefined;
  if (type === 'response' || type === 'resource') {
    let body = rec.block;
    let ct = h.get('content-type');
    if (type === 'response') {
      if (!/^application\/http/i.test(ct ?? 'application/http')) return 'other-type';
      const res = parseHttpResponse(rec.block, opts.maxRecordSize);
      if (!res) throw new RecordProblem('malformed HTTP response (no status line)');
      if (res.status < 200 || res.status >= 300) return 'http-status';
      body = res.body;
      ct = res.headers.get('content-type');
    }
    if (!isHtmlType(ct, body)) return 'not-html';
    const html = decodeHtml(body, ct).text;
    if (opts.prefilterMath && !looksMathy(html)) return 'prefiltered';
    const ex = extractHtml(html);
    text = ex.text;
    title = ex.title;
  } else if (type === 'conversion') {
    text = rec.block.toString('utf8').trim();
    if (opts.prefilterMath && !looksMathy(text)) return 'prefiltered';
    const declared = h.get('warc-identified-content-language')?.split(',')[0]?.trim();
    if (declared) language = ISO3[declared] ?? declared;
  } else {
    return 'other-type';
  }
  if (text.length < Math.max(1, opts.minChars)) return 'empty';
  language ??= guessLanguage(text);
  const doc: Doc = {
    id: stripAngles(h.get('warc-record-id')) || `${file}@${rec.offset}`,
    url,
    domain: url ? domainOf(url) : null,
    date: normDate(h.get('warc-date')),
    text,
    provenance: { file, offset: rec.offset, length: rec.length },
  };
  if (language) doc.language = language;
  if (title) doc.title = title;
  return doc;
}

/** Field order for output: identity first, text last-but-one so `head` shows the useful parts. */
export function serialiseDoc(d: Doc): string {
  return JSON.stringify({
    id: d.id,
    url: d.url,
    domain: d.domain,
    date: d.date,
    ...(d.language ? { language: d.language } : {}),
    ...(d.title ? { title: d.title } : {}),
    text: d.text,
    provenance: d.provenance,
  });
}

/** What became of one record: a document line, a skip reason, or a per-record problem. */
export type Outcome = { line: string } | { skip: SkipReason } | { problem: string; id?: string };

export function outcomeOf(rec: WarcRecord, file: string, opts: DocOptions): Outcome {
  try {
    const r = recordToDoc(rec, file, opts);
    return typeof r === 'string' ? { skip: r } : { line: serialiseDoc(r) };
  } catch (e) {
    if (!(e instanceof RecordProblem || e instanceof BodyTooLarge)) throw e;
    const id = rec.headers.get('warc-record-id');
    return id ? { problem: e.message, id } : { problem: e.message };
  }
}
