// A one-line progress meter on stderr, shown only when stderr is a terminal and --quiet is off,
// so pipelines and CI logs stay clean. It polls a counter function instead of being called per record,
// so the hot loop pays nothing for it.
import { isQuiet } from './log.js';

export interface ProgressCounts {
  records: number;
  bytes: number;
}

export interface Progress {
  stop(): void;
}

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

export function formatProgress(c: ProgressCounts, seconds: number, totalBytes?: number): string {
  const s = Math.max(seconds, 1e-3);
  let line = `${human(c.records)} records  ${human(c.records / s)} rec/s  ${(c.bytes / 1e6 / s).toFixed(1)} MB/s`;
  if (totalBytes && totalBytes > 0 && c.bytes > 0) {
    const frac = Math.min(1, c.bytes / totalBytes);
    const eta = (s / frac) * (1 - frac);
    line += `  ${(frac * 100).toFixed(1)}%  ETA ${Math.round(eta)}s`;
  }
  return line;
}

export function startProgress(
  label: string,
  counts: () => ProgressCounts,
  totalBytes?: number,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  if (!stream.isTTY || isQuiet()) return { stop() {} };
  const t0 = performance.now();
  const draw = () => {
    const line = `${label}: ${formatProgress(counts(), (performance.now() - t0) / 1000, totalBytes)}`;
    stream.write(`\r${line}\x1b[K`);
  };
  const timer = setInterval(draw, 250);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      draw();
      stream.write('\n');
    },
  };
}
