// The collected set, as the keys its documents are matched by in the pool: ids (the default: dedup,
// decontam and select pass ids through) or normalised URLs.
import { readJsonl, type JsonObject } from '../../jsonl/index.js';
import { normaliseUrl } from '../dedup/url.js';

export type MatchBy = 'id' | 'url';

export function keyOf(v: JsonObject, by: MatchBy, idField: string, urlField: string): string | undefined {
  if (by === 'url') return typeof v[urlField] === 'string' ? normaliseUrl(v[urlField] as string) : undefined;
  const id = v[idField];
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

export async function readCollected(paths: string[], by: MatchBy, idField: string, urlField: string): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const r of readJsonl(paths)) {
    const k = keyOf(r.value, by, idField, urlField);
    if (k !== undefined) keys.add(k);
  }
  return keys;
}
