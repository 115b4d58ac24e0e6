// The parts of a page's URL that domain discovery groups by: the registrable domain (the paper's "same
// base URL": mathoverflow.net, stackexchange.com), and a prefix inside it, host plus the first path
// segments (math.stackexchange.com/questions), which is what an annotator accepts or rejects.
import { domainOf } from '../document.js';

export interface UrlParts {
  domain: string;
  /** host (without "www.") + "/" + the first `depth` path segments, e.g. "mathoverflow.net/questions". */
  prefix: string;
  host: string;
  path: string;
}

export function urlParts(url: string, depth: number, domainField?: unknown): UrlParts | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  const host = u.hostname.toLowerCase().replace(/^www\d*\./, '').replace(/\.$/, '');
  const domain = typeof domainField === 'string' && domainField ? domainField.toLowerCase() : (domainOf(u.href) ?? host);
  const segs = u.pathname.split('/').filter(Boolean);
  return { domain, host, path: u.pathname, prefix: `${host}/${segs.slice(0, depth).join('/')}` };
}
