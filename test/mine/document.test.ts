// recordToDoc on its own: one WARC record in, a document or the reason it was skipped out (it is pure, so
// each rule is checked here with a hand-made record instead of through a whole mine run).
import t from 'tap';
import { RecordProblem, recordToDoc, serialiseDoc, type DocOptions } from '../../src/mine/document.js';
import type { WarcRecord } from '../../src/mine/warc.js';

const OPTS: DocOptions = { prefilterMath: false, minChars: 1, maxRecordSize: 1 << 20 };
const PAGE = '<html><head><title>Sums</title></head><body><nav>Home | About</nav><p>The sum is <script type="math/tex">a+b</script>.</p></body></html>';

function record(headers: Record<string, string>, block: string | Buffer, offset = 100, length = 50): WarcRecord {
  return { offset, length, headers: new Map(Object.entries(headers)), block: Buffer.isBuffer(block) ? block : Buffer.from(block) };
}

function http(body: string, status = '200 OK', type = 'text/html; charset=utf-8'): string {
  return `HTTP/1.1 ${status}\r\nContent-Type: ${type}\r\n\r\n${body}`;
}

const response = (body: string, extra: Record<string, string> = {}) =>
  record({ 'warc-type': 'response', 'warc-target-uri': '<https://www.example.co.uk/a/b?x=1>', 'warc-record-id': '<urn:uuid:1234>', 'warc-date': '2023-01-02T03:04:05Z', 'content-type': 'application/http; msgtype=response', ...extra }, body);

t.test('a response becomes a document: text with its math, title, identity and provenance', async (t) => {
  const d = recordToDoc(response(http(PAGE)), 'crawl.warc.gz', OPTS);
  t.same(d, {
    id: 'urn:uuid:1234',
    url: 'https://www.example.co.uk/a/b?x=1',
    domain: 'example.co.uk',
    date: '2023-01-02T03:04:05Z',
    title: 'Sums',
    text: 'The sum is $a+b$.',
    provenance: { file: 'crawl.warc.gz', offset: 100, length: 50 },
  });
  t.equal(serialiseDoc(d as Exclude<typeof d, string>).indexOf('"id"'), 1, 'identity first in the output line');
  const long = `<p>${'The derivative of a polynomial is found term by term, and the result is again a polynomial. '.repeat(3)}</p>`;
  t.match(recordToDoc(response(http(long)), 'f', OPTS), { language: 'en' }, 'the language guessed from enough text');
});

t.test('skip reasons', async (t) => {
  t.equal(recordToDoc(record({ 'warc-type': 'request' }, 'GET / HTTP/1.1\r\n\r\n'), 'f', OPTS), 'other-type');
  t.equal(recordToDoc(record({ 'warc-type': 'metadata' }, 'x: y'), 'f', OPTS), 'other-type');
  t.equal(recordToDoc(response(http(PAGE), { 'content-type': 'application/warc-fields' }), 'f', OPTS), 'other-type', 'a response that is not HTTP');
  t.equal(recordToDoc(response(http(PAGE, '404 Not Found')), 'f', OPTS), 'http-status');
  t.equal(recordToDoc(response(http(PAGE, '301 Moved Permanently')), 'f', OPTS), 'http-status');
  t.equal(recordToDoc(response(http('%PDF-1.4', '200 OK', 'application/pdf')), 'f', OPTS), 'not-html');
  t.equal(recordToDoc(response(http('<html><body><p>Cats and dogs.</p></body></html>')), 'f', { ...OPTS, prefilterMath: true }), 'prefiltered');
  t.equal(recordToDoc(response(http('<html><body><nav>only a menu</nav></body></html>')), 'f', OPTS), 'empty');
  t.equal(recordToDoc(response(http(PAGE)), 'f', { ...OPTS, minChars: 1000 }), 'empty', 'shorter than --min-chars');
});

t.test('an untyped body is sniffed; a resource record is its own body', async (t) => {
  const sniffed = recordToDoc(response(http(PAGE, '200 OK', 'application/octet-stream')), 'f', OPTS);
  t.match(sniffed, { text: 'The sum is $a+b$.' });
  const res = recordToDoc(record({ 'warc-type': 'resource', 'warc-target-uri': 'http://localhost/x.html', 'content-type': 'text/html' }, PAGE), 'f', OPTS);
  t.match(res, { url: 'http://localhost/x.html', text: 'The sum is $a+b$.', title: 'Sums' });
});

t.test('conversion (WET) records: the text as it is, the declared language mapped to ISO 639-1', async (t) => {
  const wet = record({ 'warc-type': 'conversion', 'warc-target-uri': 'https://math.example.org/', 'warc-identified-content-language': 'deu,eng' }, '  Der Satz des Pythagoras: a^2+b^2=c^2.  \n');
  t.match(recordToDoc(wet, 'f.wet', OPTS), { text: 'Der Satz des Pythagoras: a^2+b^2=c^2.', language: 'de', domain: 'example.org' });
  const unknown = record({ 'warc-type': 'conversion', 'warc-identified-content-language': 'xyz' }, 'Some words here.');
  t.match(recordToDoc(unknown, 'f.wet', OPTS), { language: 'xyz', url: '', domain: null });
});

t.test('identity and dates when headers are missing or old-style', async (t) => {
  const d = recordToDoc(record({ 'warc-type': 'resource', 'content-type': 'text/html', 'warc-date': '20090102030405' }, PAGE, 7), 'a.warc', OPTS);
  t.match(d, { id: 'a.warc@7', url: '', domain: null, date: '2009-01-02T03:04:05Z' }, 'no record id: file@offset; ClueWeb compact date');
  t.match(recordToDoc(record({ 'warc-type': 'resource', 'content-type': 'text/html', 'warc-date': 'not a date' }, PAGE), 'a', OPTS), { date: 'not a date' }, 'an unparsable date is kept raw');
  t.match(recordToDoc(record({ 'warc-type': 'resource', 'content-type': 'text/html' }, PAGE), 'a', OPTS), { date: null });
});

t.test('a response without an HTTP status line is a per-record problem', async (t) => {
  let caught: unknown;
  try {
    recordToDoc(response('no status line here'), 'f', OPTS);
  } catch (e) {
    caught = e;
  }
  t.ok(caught instanceof RecordProblem, 'a RecordProblem (mine reports it with the record and goes on)');
  t.match((caught as Error).message, /no status line/);
});
