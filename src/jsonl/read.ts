// JSONL records: each line parsed once, its original text kept so that records passing through a
// filter are written back byte for byte (big numbers, key order and escapes survive untouched).
import { DataError, at } from '../cli/errors.js';
import { warn } from '../cli/log.js';
import { readLineBatches, type LineStats } from './lines.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export interface JsonlRecord<T = JsonObject> {
  value: T;
  /** The line exactly as read (without the newline). */
  raw: string;
  file: string;
  line: number;
}

export interface ReadStats extends LineStats {
  records: number;
  skipped: number;
}

export interface ReadOptions {
  /** Skip malformed lines (counted in stats.skipped) instead of throwing DataError (exit 65). */
  skipInvalid?: boolean;
  stats?: ReadStats;
}

export function newReadStats(): ReadStats {
  return { bytes: 0, lines: 0, records: 0, skipped: 0 };
}

/**
 * One JSONL line as an object, or as a string why it is not one ("invalid JSON (...)", "expected a
 * JSON object"): for readers that report errors their own way (worker threads).
 */
export function parseRecord(text: string): JsonObject | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return `invalid JSON (${(e as Error).message})`;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'expected a JSON object';
  return v as JsonObject;
}

/** One JSONL line as an object, or a DataError at `where`. */
export function parseLine(text: string, where: string): JsonObject {
  const v = parseRecord(text);
  if (typeof v === 'string') throw new DataError(where, v);
  return v;
}

/** Batches of parsed records; the fastest way to consume a large input. */
export async function* readJsonlBatches(paths: string[], opts: ReadOptions = {}): AsyncGenerator<JsonlRecord[]> {
  const stats = opts.stats ?? newReadStats();
  for await (const lines of readLineBatches(paths, stats, { skipInvalid: opts.skipInvalid })) {
    const out: JsonlRecord[] = [];
    for (const l of lines) {
      let value: JsonObject;
      try {
        value = parseLine(l.text, at(l.file, l.line));
      } catch (e) {
        if (!opts.skipInvalid) throw e;
        stats.skipped++;
        continue;
      }
      out.push({ value, raw: l.text, file: l.file, line: l.line });
    }
    stats.records += out.length;
    if (out.length) yield out;
  }
}

/** Records one at a time. */
export async function* readJsonl(paths: string[], opts: ReadOptions = {}): AsyncGenerator<JsonlRecord> {
  for await (const batch of readJsonlBatches(paths, opts)) yield* batch;
}

/** Read a whole (small) JSONL file into memory: benchmark files, label sets, configs. */
export async function readAllJsonl(paths: string[], opts: ReadOptions = {}): Promise<JsonlRecord[]> {
  const all: JsonlRecord[] = [];
  for await (const batch of readJsonlBatches(paths, opts)) for (const r of batch) all.push(r);
  return all;
}

/** The standard end-of-run note for --skip-invalid. */
export function reportSkipped(stats: ReadStats): void {
  if (stats.skipped > 0) warn(`skipped ${stats.skipped} invalid line${stats.skipped === 1 ? '' : 's'} (--skip-invalid)`);
}

/** A JSON value's kind for messages: "a number", "an array", "null". */
export function jsonKind(v: unknown): string {
  return Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`;
}

/**
 * Why a record has no document text in `field` (every command's --text-field), or undefined: one
 * wording everywhere.
 */
export function textFieldProblem(value: Record<string, unknown>, field: string): string | undefined {
  const v = value[field];
  if (typeof v === 'string') return undefined;
  return v === undefined ? `missing field "${field}" (the document text; name it with --text-field)` : `field "${field}" is not a string but ${jsonKind(v)}`;
}

/** A record's document text (`field`), or a DataError naming the record. */
export function recordText(rec: JsonlRecord, field: string): string {
  const why = textFieldProblem(rec.value, field);
  if (why) throw new DataError(recordWhere(rec), why);
  return rec.value[field] as string;
}

/** The id of a record for messages (string or number ids only). */
export function recordId(value: Record<string, unknown>): string | undefined {
  const id = value.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/** "file:line (id X)" for error messages about a record. */
export function recordWhere(rec: JsonlRecord): string {
  const id = recordId(rec.value);
  return at(rec.file, rec.line) + (id !== undefined ? ` (id ${id})` : '');
}
