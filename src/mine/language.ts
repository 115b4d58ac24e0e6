// A cheap language guess: the dominant Unicode script of the letters, and for Latin and Cyrillic text the
// language whose function words are most frequent. Good enough to route or filter by language; it is not
// a classifier (use fastText's lid.176 for that). Returns undefined when there are too few letters.

const SCRIPTS: [RegExp, string][] = [
  [/[\u3040-\u30ff]/g, 'ja'],
  [/[\uac00-\ud7af\u1100-\u11ff]/g, 'ko'],
  [/[\u4e00-\u9fff\u3400-\u4dbf]/g, 'zh'],
  [/[\u0400-\u04ff]/g, 'cyrl'],
  [/[\u0600-\u06ff]/g, 'ar'],
  [/[\u0590-\u05ff]/g, 'he'],
  [/[\u0370-\u03ff]/g, 'el'],
  [/[\u0900-\u097f]/g, 'hi'],
  [/[\u0e00-\u0e7f]/g, 'th'],
  [/[a-zA-Z\u00c0-\u024f]/g, 'latn'],
];

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

const SAMPLE = 4000;

export function guessLanguage(text: string): string | undefined {
  const s = text.length > SAMPLE ? text.slice(0, SAMPLE) : text;
  let best = '';
  let bestN = 0;
  let letters = 0;
  const counts = new Map<string, number>();
  for (const [re, name] of SCRIPTS) {
    const n = s.match(re)?.length ?? 0;
    counts.set(name, n);
    letters += n;
    if (n > bestN) {
      best = name;
      bestN = n;
    }
  }
  if (letters < 20) return undefined;
  // Japanese text is mostly kanji, with some kana: any real kana share means Japanese.
  if ((best === 'zh' || best === 'ja') && (counts.get('ja') ?? 0) > 0.05 * ((counts.get('zh') ?? 0) + (counts.get('ja') ?? 0))) return 'ja';
  if (best !== 'latn' && best !== 'cyrl') return best;
  const votes = new Map<string, number>();
  for (const w of s.toLowerCase().split(/[^\p{L}]+/u)) {
    const langs = WORD_LANG.get(w);
    if (langs) for (const l of langs) votes.set(l, (votes.get(l) ?? 0) + 1);
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
