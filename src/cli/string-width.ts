// The display width of a string, for the bundled yargs help (scripts/build.mjs aliases the `string-width`
// package to this file). The package builds an Intl.Segmenter and Unicode-property regexes when it loads,
// ~30 ms of every command's start-up, to measure grapheme clusters and emoji that mathpipe's help never
// shows: here escape sequences are dropped, control and combining characters are zero wide, and East
// Asian wide and fullwidth characters (and emoji) are two wide.
// eslint-disable-next-line no-control-regex -- escape sequences are what it removes
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

const WIDE: [number, number][] = [
  [0x1100, 0x115f], [0x231a, 0x231b], [0x2329, 0x232a], [0x23e9, 0x23ec], [0x2614, 0x2615], [0x2e80, 0x303e],
  [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf], [0xa960, 0xa97f], [0xac00, 0xd7a3],
  [0xf900, 0xfaff], [0xfe10, 0xfe19], [0xfe30, 0xfe6f], [0xff00, 0xff60], [0xffe0, 0xffe6], [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff], [0x20000, 0x3fffd],
];

function wide(c: number): boolean {
  for (const [lo, hi] of WIDE) if (c >= lo && c <= hi) return true;
  return false;
}

export default function stringWidth(text: string): number {
  let w = 0;
  for (const ch of text.replace(ANSI, '')) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x7f && c < 0xa0) || (c >= 0x300 && c < 0x370) || c === 0x200b || c === 0x200d || (c >= 0xfe00 && c <= 0xfe0f)) continue;
    w += wide(c) ? 2 : 1;
  }
  return w;
}
