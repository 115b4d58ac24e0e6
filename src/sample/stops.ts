// The text of a sample as it grows, and the stop strings in it. Stop strings are searched in the decoded text,
// not in token ids, so a stop that spans token boundaries (or ends inside a token) is found; the completion is
// cut before it, as OpenAI and vLLM do. Bytes that do not yet form a whole UTF-8 character wait for the next token.

export interface StopHit {
  /** Where the stop string starts in the text. */
  at: number;
  stop: string;
}

export class StopWatch {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly longest: number;
  text = '';

  constructor(private readonly stops: readonly string[]) {
    this.longest = Math.max(0, ...stops.map((s) => s.length));
  }

  /** Append a token's bytes; the earliest stop string that now appears (it overlaps the new text), if any. */
  push(bytes: Uint8Array): StopHit | undefined {
    const before = this.text.length;
    this.text += this.decoder.decode(bytes, { stream: true });
    if (!this.stops.length || this.text.length === before) return undefined;
    const from = Math.max(0, before - this.longest + 1);
    let hit: StopHit | undefined;
    for (const stop of this.stops) {
      const at = this.text.indexOf(stop, from);
      if (at >= 0 && (!hit || at < hit.at)) hit = { at, stop };
    }
    return hit;
  }

  /** The whole text, with an unfinished character at the end shown as U+FFFD (as the tokenizer's decode does). */
  finish(): string {
    this.text += this.decoder.decode();
    return this.text;
  }
}
