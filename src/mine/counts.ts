// What a mining run saw, for the end-of-run summary and the per-input done markers used by --resume.
import type { SkipReason } from './document.js';

export interface MineCounts {
  inputs: number;
  resumed: number;
  failedInputs: number;
  bytes: number;
  records: number;
  docs: number;
  recordErrors: number;
  skipped: Record<SkipReason, number>;
}

export function newCounts(): MineCounts {
  return {
    inputs: 0,
    resumed: 0,
    failedInputs: 0,
    bytes: 0,
    records: 0,
    docs: 0,
    recordErrors: 0,
    skipped: { 'other-type': 0, 'http-status': 0, 'not-html': 0, prefiltered: 0, empty: 0 },
  };
}

export function addCounts(into: MineCounts, c: MineCounts): void {
  into.inputs += c.inputs;
  into.resumed += c.resumed;
  into.failedInputs += c.failedInputs;
  into.bytes += c.bytes;
  into.records += c.records;
  into.docs += c.docs;
  into.recordErrors += c.recordErrors;
  for (const k of Object.keys(c.skipped) as SkipReason[]) into.skipped[k] += c.skipped[k];
}

export function summary(c: MineCounts, seconds: number): string {
  const s = c.skipped;
  const parts = [
    `${c.docs} docs from ${c.records} records in ${c.inputs} input${c.inputs === 1 ? '' : 's'}`,
    `skipped: ${s['other-type']} non-page records, ${s['not-html']} non-HTML, ${s['http-status']} non-2xx, ${s.prefiltered} prefiltered, ${s.empty} empty`,
  ];
  if (c.recordErrors) parts.push(`${c.recordErrors} bad records`);
  if (c.resumed) parts.push(`${c.resumed} inputs resumed from done markers`);
  if (c.failedInputs) parts.push(`${c.failedInputs} inputs failed`);
  parts.push(`${(c.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)}s`);
  return parts.join('; ');
}
