// Texts every tokenizer must round-trip exactly.
export const SAMPLES = [
  'plain ASCII text, with punctuation!',
  'unicode: héllo wörld, 日本語のテキスト, Ελληνικά, עברית, emoji 🙂👍🏽 and a ZWJ family 👨‍👩‍👧',
  'LaTeX: $\\frac{a}{b} + \\sqrt{x^2 + y^2} = \\int_0^\\infty e^{-t}\\,dt$ \\\\ \\{1,2\\}',
  'code:\n\tdef f(x):\n\t    return x ** 2  # square\n\n\nif __name__ == "__main__":\r\n    print(f(12345))\n',
  '   leading and trailing spaces   ',
  'special text <|endoftext|> is ordinary text by default',
  '',
];
