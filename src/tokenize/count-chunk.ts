// Pre-token counting for `tokenize train`, one line-aligned chunk at a time (in a worker or in-process).
import { compilePattern } from '../tokenizer/index.js';
import { scanRecords, type ScanOptions, type ScanResult } from './records.js';

export interface CountResult extends ScanResult {
  documents: number;
  textBytes: number;
}

export class PreTokenCounter {
  readonly counts = new Map<string, number>();
  private readonly re: RegExp;

  constructor(
    pattern: string,
    private readonly o: ScanOptions,
  ) {
    this.re = compilePattern(pattern);
  }

  add(bytes: Uint8Array, first: boolean): CountResult {
    let documents = 0;
    let textBytes = 0;
    const { re, counts } = this;
    const scan = scanRecords(bytes, first, this.o, (text) => {
      documents++;
      textBytes += Buffer.byteLength(text, 'utf8');
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        const p = m[0];
        if (p === '') {
          re.lastIndex++;
          continue;
        }
        counts.set(p, (counts.get(p) ?? 0) + 1);
      }
    });
    return { ...scan, documents, textBytes };
  }
}
