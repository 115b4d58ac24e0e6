// How many tokens a document is: the tokenizer's count (any tokenizer `tokenize` knows), a precomputed
// field, or a whitespace word count (quick; 0.55x cl100k_base's count measured on ../shared's math web pages).
import { loadTokenizer } from '../../tokenizer/index.js';

export type TokenCounter = (text: string, rec: Record<string, unknown>) => number;

export interface CountOptions {
  tokenizer: string;
  whitespace: boolean;
  tokensField?: string;
}

export function describeCount(o: CountOptions): string {
  return o.tokensField ? `field ${o.tokensField}` : o.whitespace ? 'whitespace words' : o.tokenizer;
}

export function tokenCounter(o: CountOptions): TokenCounter {
  if (o.tokensField) {
    const f = o.tokensField;
    return (_t, rec) => {
      const v = rec[f];
      return typeof v === 'number' && v >= 0 ? v : NaN;
    };
  }
  if (o.whitespace) {
    return (text) => {
      let n = 0;
      let inWord = false;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        const space = c === 32 || (c >= 9 && c <= 13) || c === 0xa0;
        if (!space && !inWord) n++;
        inWord = !space;
      }
      return n;
    };
  }
  const tok = loadTokenizer(o.tokenizer);
  return (text) => tok.encodeArray(text).length;
}
