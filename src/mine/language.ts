// A cheap language guess: the dominant Unicode script of the letters, and for Latin and Cyrillic text the
// language whose function words are most frequent. Good enough to route or filter by language; it is not
// a classifier (use fastText's lid.176 for that). Returns undefined when there are too few letters.

const SCRIPT_NAMES = ['latn', 'el', 'cyrl', 'he', 'ar', 'hi', 'th', 'ko', 'ja', 'zh'] as const;
const LATN = 0, EL = 1, CYRL = 2, HE = 3, AR = 4, HI = 5, TH = 6, KO = 7, JA = 8, ZH = 9;

/** The script (index into SCRIPT_NAMES) of one UTF-16 code unit, or -1: plain range tests, this runs per character. */
function scriptOf(c: number): number {
  if (c < 0x41) return -1;
  if (c <= 0x7a) return c <= 0x5a || c >= 0x61 ? LATN : -1;
  if (c < 0xc0) return -1;
  if (c <= 0x24f) return c === 0xd7 || c === 0xf7 ? -1 : LATN;
  if (c < 0x370) return -1;
  if (c <= 0x3ff) return EL;
  if (c <= 0x4ff) return CYRL;
  if (c < 0x590) return -1;
  if (c <= 0x5ff) return HE;
  if (c <= 0x6ff) return AR;
  if (c >= 0x900 && c <= 0x97f) return HI;
  if (c >= 0xe00 && c <= 0xe7f) return TH;
  if (c >= 0x1100 && c <= 0x11ff) return KO;
  if (c >= 0x3040 && c <= 0x30ff) return JA;
  if ((c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff)) return ZH;
  if (c >= 0xac00 && c <= 0xd7af) return KO;
  return -1;
}

const STOPWORDS: Record<string, string[]> = {
  en: ['the', 'and', 'of', 'to', 'is', 'in', 'that', 'it', 'for', 'with', 'this', 'are', 'be', 'we', 'on'],
  de: ['der', 'die', 'und', 'das', 'ist', 'nicht', 'mit', 'den', 'ein', 'eine', 'ich', 'auf', 'sich', 'zu', 'wir'],
  fr: ['le', 'la', 'les', 'et', 'des', 'est', 'une', 'un', 'que', 'pour', 'dans', 'du', 'pas', 'qui', 'nous'],
  es: ['el', 'la', 'los', 'las', 'y', 'que', 'de', 'en', 'es', 'por', 'una', 'un', 'con', 'para', 'se'],
  it: ['il', 'la', 'che', 'di', 'e', 'non', 'per', 'una', 'sono', 'gli', 'con', 'del', 'della', 'le', 'si'],
  pt: ['o', 'a', 'os', 'que', 'de', 'e', 'não', 'uma', 'um', 'para', 'com', 'em', 'do', 'da', 'se'],
  nl: ['de', 'het', 'een', 'en', 'van', 'is', 'niet', 'dat', 'op', 'te', 'met', 'zijn', 'voor', 'ik', 'we'],
  ru: ['и', 'в', 'не', 'на', 'что', 'с', 'по', 'это', 'как', 'для', 'из', 'от', 'мы', 'но', 'он'],
  uk: ['і', 'в', 'не', 'на', 'що', 'з', 'та', 'це', 'як', 'для', 'до', 'від', 'ми', 'але', 'й'],
};
const WORD_LANG = new Map<string, string[]>();
for (const [lang, words] of Object.entries(STOPWORDS)) {
  for (const w of words) WORD_LANG.set(w, [...(WORD_LANG.get(w) ?? []), lang]);
}

const SAMPLE = 2000;

export function guessLanguage(text: string): string | undefined {
  const s = text.length > SAMPLE ? text.slice(0, SAMPLE) : text;
  const counts = new Int32Array(SCRIPT_NAMES.length);
  let letters = 0;
  for (let i = 0; i < s.length; i++) {
    const sc = scriptOf(s.charCodeAt(i));
    if (sc >= 0) {
      counts[sc]!++;
      letters++;
    }
  }
  if (letters < 20) return undefined;
  let bestI = 0;
  for (let i = 1; i < counts.length; i++) if (counts[i]! > counts[bestI]!) bestI = i;
  const best: string = SCRIPT_NAMES[bestI]!;
  // Japanese text is mostly kanji, with some kana: any real kana share means Japanese.
  if ((bestI === ZH || bestI === JA) && counts[JA]! > 0.05 * (counts[ZH]! + counts[JA]!)) return 'ja';
  if (best !== 'latn' && best !== 'cyrl') return best;
  const votes = new Map<string, number>();
  // Words are runs of letters; a hand-written scan is several times faster than split(/[^\p{L}]+/u).
  const lower = s.toLowerCase();
  let start = -1;
  for (let i = 0; i <= lower.length; i++) {
    const letter = i < lower.length && scriptOf(lower.charCodeAt(i)) >= 0;
    if (letter) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start <= 5) {
      const langs = WORD_LANG.get(lower.slice(start, i));
      if (langs) for (const l of langs) votes.set(l, (votes.get(l) ?? 0) + 1);
    }
    start = -1;
  }
  let lang = '';
  let n = 0;
  for (const [l, v] of votes) {
    if (v > n) {
      lang = l;
      n = v;
    }
  }
  return n >= 3 ? lang : undefined;
}
