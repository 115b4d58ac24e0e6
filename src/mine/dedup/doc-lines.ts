// The second (and third) reading of dedup's input: the lines of the documents the first reading
// numbered, in order, matched by file and line number, so lines skipped as invalid stay skipped and the
// JSON need not be parsed again just to know which document a line is.
import { readLineBatches } from '../../jsonl/index.js';

export async function* docLines(inputs: string[], t: { n: number; file: ArrayLike<number>; line: ArrayLike<number> }): AsyncGenerator<{ d: number; text: string }[]> {
  let d = 0;
  for (let f = 0; f < inputs.length; f++) {
    // Lines the first reading skipped as invalid (--skip-invalid) match no document: skip them here too.
    for await (const batch of readLineBatches([inputs[f]!], undefined, { skipInvalid: true })) {
      const out: { d: number; text: string }[] = [];
      for (const l of batch) {
        if (d < t.n && t.file[d] === f && t.line[d] === l.line) out.push({ d: d++, text: l.text });
      }
      if (out.length) yield out;
    }
  }
}
