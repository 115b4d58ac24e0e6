// URL normalisation for exact-URL dedup: the same page reached by http and https, with or without
// "www.", a default port, a fragment, a trailing slash, tracking parameters or another parameter order
// is one page. What a crawl calls different pages (another path, another meaningful query) stays apart.
const TRACKING = /^(utm_[a-z]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|yclid|ref_src)$/i;

/** The normalised form of a URL, or undefined when it does not parse as an absolute http(s) URL. */
export function normaliseUrl(raw: string): string | undefined {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  const host = u.hostname.toLowerCase().replace(/^www\d*\./, '').replace(/\.$/, '');
  const port = u.port && u.port !== '80' && u.port !== '443' ? `:${u.port}` : '';
  let path = u.pathname.replace(/\/{2,}/g, '/');
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  const params = [...u.searchParams].filter(([k]) => !TRACKING.test(k));
  params.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
  const query = params.length ? `?${new URLSearchParams(params).toString()}` : '';
  return `${host}${port}${path}${query}`;
}
