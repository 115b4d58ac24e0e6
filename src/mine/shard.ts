// Shard selection shared by every recall-loop step: `--shard i/N` (0 <= i < N) takes a contiguous
// slice of the input list, so the shards' outputs concatenated in shard order are in input order (and
// a sharded run chooses exactly what a one-shot run over the same list does).
import { UsageError } from '../cli/errors.js';

export interface Shard {
  index: number;
  count: number;
}

export function parseShard(v: unknown): Shard | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(String(v));
  const shard = m ? { index: Number(m[1]), count: Number(m[2]) } : undefined;
  if (!shard || shard.count < 1 || shard.index >= shard.count) throw new UsageError(`--shard must be i/N with 0 <= i < N, like 3/64 (got ${String(v)})`);
  return shard;
}

/** Shard i's slice of the list: items [floor(i*L/N), floor((i+1)*L/N)). */
export function shardSlice<T>(list: T[], s: Shard | undefined): T[] {
  if (!s) return list;
  return list.slice(Math.floor((s.index * list.length) / s.count), Math.floor(((s.index + 1) * list.length) / s.count));
}
