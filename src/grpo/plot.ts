// `grpo plot`: a run's metrics over steps as one SVG of four panels, runs side by side in colours (as `eval plot`
// draws pass@K / maj@K against K, with its palette): the training reward and accuracy (a moving mean over
// --smooth steps; the held-out greedy accuracy dashed beside the latter), held-out pass@K and maj@K (one dash
// pattern per K). Which of the two RL raises is the question DeepSeekMath's Figure 7 asks; this shows it over time.
import { readJsonl } from '../jsonl/index.js';
import { DataError } from '../cli/errors.js';
import { COLORS, esc } from '../eval/plot.js';

export interface RunMetrics {
  label: string;
  lines: Record<string, number>[];
}

type Pt = [number, number];
interface Line {
  run: number;
  dash: number;
  name: string;
  pts: Pt[];
}

const DASHES = ['', '6 4', '2 3', '10 3 2 3'];

function movingMean(pts: Pt[], w: number): Pt[] {
  return pts.map((p, i) => {
    const win = pts.slice(Math.max(0, i - w + 1), i + 1);
    return [p[0], win.reduce((a, q) => a + q[1], 0) / win.length];
  });
}

const series = (lines: Record<string, number>[], key: string): Pt[] => lines.filter((l) => typeof l[key] === 'number' && typeof l.step === 'number').map((l) => [l.step, l[key]]);

/** The K of every `valid_<kind>@K` key in the runs, ascending. */
const ksOf = (runs: RunMetrics[], kind: string): number[] =>
  [...new Set(runs.flatMap((r) => r.lines.flatMap((l) => Object.keys(l).filter((k) => k.startsWith(`valid_${kind}@`)).map((k) => Number(k.slice(kind.length + 7))))))].sort((a, b) => a - b);

function panel(out: string[], x0: number, y0: number, w: number, h: number, title: string, lines: Line[], steps: [number, number], legend: string[]): void {
  const m = { l: 46, r: 10, t: 24, b: 30 };
  const vals = lines.flatMap((l) => l.pts.map((p) => p[1]));
  let lo = vals.length ? Math.min(...vals) : 0;
  let hi = vals.length ? Math.max(...vals) : 1;
  const pad = (hi - lo) * 0.05 || 0.05;
  lo = Math.floor((lo - pad) * 20) / 20;
  hi = Math.ceil((hi + pad) * 20) / 20;
  const X = (s: number) => x0 + m.l + ((s - steps[0]) / Math.max(1, steps[1] - steps[0])) * (w - m.l - m.r);
  const Y = (v: number) => y0 + h - m.b - ((v - lo) / (hi - lo)) * (h - m.t - m.b);
  out.push(`<text x="${x0 + w / 2}" y="${y0 + 16}" text-anchor="middle" font-size="13">${esc(title)}</text>`);
  for (let t = 0; t <= 4; t++) {
    const v = lo + ((hi - lo) * t) / 4;
    out.push(`<line x1="${x0 + m.l}" x2="${x0 + w - m.r}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${x0 + m.l - 4}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end" font-size="10">${Number(v.toFixed(3))}</text>`);
  }
  for (let t = 0; t <= 4; t++) {
    const s = Math.round(steps[0] + ((steps[1] - steps[0]) * t) / 4);
    out.push(`<text x="${X(s).toFixed(1)}" y="${y0 + h - m.b + 14}" text-anchor="middle" font-size="10">${s}</text>`);
  }
  out.push(`<path d="M${x0 + m.l},${y0 + m.t} V${y0 + h - m.b} H${x0 + w - m.r}" fill="none" stroke="black"/>`);
  out.push(`<text x="${x0 + w / 2}" y="${y0 + h - 4}" text-anchor="middle" font-size="10">step</text>`);
  for (const l of lines) {
    if (!l.pts.length) continue;
    const color = COLORS[l.run % COLORS.length]!;
    const dash = DASHES[l.dash % DASHES.length];
    const d = l.pts.map(([s, v], j) => `${j ? 'L' : 'M'}${X(s).toFixed(1)},${Y(v).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"${dash ? ` stroke-dasharray="${dash}"` : ''}><title>${esc(l.name)}</title></path>`);
    if (l.pts.length <= 30) for (const [s, v] of l.pts) out.push(`<circle cx="${X(s).toFixed(1)}" cy="${Y(v).toFixed(1)}" r="2.5" fill="${color}"><title>${esc(l.name)} step ${s}: ${Number(v.toFixed(4))}</title></circle>`);
  }
  legend.forEach((text, i) => {
    const ly = y0 + m.t + 8 + i * 13;
    out.push(`<line x1="${x0 + m.l + 8}" x2="${x0 + m.l + 30}" y1="${ly}" y2="${ly}" stroke="#555" stroke-width="1.6"${DASHES[i % DASHES.length] ? ` stroke-dasharray="${DASHES[i % DASHES.length]}"` : ''}/>`);
    out.push(`<text x="${x0 + m.l + 34}" y="${ly + 4}" font-size="10">${esc(text)}</text>`);
  });
}

/** The four panels of the runs' metrics. */
export function stepsSvg(runs: RunMetrics[], o: { title?: string; smooth?: number } = {}): string {
  const W = 900;
  const P = 330;
  const H = 2 * P + 60;
  const all = runs.flatMap((r) => r.lines.map((l) => l.step).filter((s) => typeof s === 'number'));
  const steps: [number, number] = [Math.min(0, ...all), Math.max(1, ...all)];
  const smooth = o.smooth ?? 10;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title ?? 'GRPO over steps')}</text>`);
  // The runs' colours, once, under the title.
  runs.forEach((r, i) => {
    const x = 20 + i * 150;
    out.push(`<rect x="${x}" y="34" width="14" height="4" fill="${COLORS[i % COLORS.length]}"/><text x="${x + 18}" y="40" font-size="11">${esc(r.label)}</text>`);
  });
  const pass = ksOf(runs, 'pass');
  const maj = ksOf(runs, 'maj');
  const top = 50;
  panel(out, 0, top, W / 2, P, `training reward (mean of ${smooth} steps)`, runs.map((r, i) => ({ run: i, dash: 0, name: `${r.label} reward`, pts: movingMean(series(r.lines, 'reward_mean'), smooth) })), steps, []);
  panel(
    out,
    W / 2,
    top,
    W / 2,
    P,
    'accuracy',
    runs.flatMap((r, i) => [
      { run: i, dash: 0, name: `${r.label} training accuracy`, pts: movingMean(series(r.lines, 'accuracy'), smooth) },
      { run: i, dash: 1, name: `${r.label} held-out greedy`, pts: series(r.lines, 'valid_greedy_accuracy') },
    ]),
    steps,
    [`training (mean of ${smooth} steps)`, 'held-out greedy'],
  );
  panel(out, 0, top + P, W / 2, P, 'held-out pass@K', runs.flatMap((r, i) => pass.map((k, j) => ({ run: i, dash: j, name: `${r.label} pass@${k}`, pts: series(r.lines, `valid_pass@${k}`) }))), steps, pass.map((k) => `pass@${k}`));
  panel(out, W / 2, top + P, W / 2, P, 'held-out maj@K', runs.flatMap((r, i) => maj.map((k, j) => ({ run: i, dash: j, name: `${r.label} maj@${k}`, pts: series(r.lines, `valid_maj@${k}`) }))), steps, maj.map((k) => `maj@${k}`));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** LABEL=FILE or FILE (labelled by its name) -> the metrics lines of a grpo run (--log or stdout). */
export async function readRunMetrics(spec: string): Promise<RunMetrics> {
  const eq = spec.indexOf('=');
  const [label, path] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [spec.replace(/^.*\//, '').replace(/\.jsonl$/, ''), spec];
  const lines: Record<string, number>[] = [];
  for await (const rec of readJsonl([path])) lines.push(rec.value as Record<string, number>);
  if (!lines.some((l) => typeof l.step === 'number')) throw new DataError(path, 'no metrics lines (records with a "step")');
  return { label, lines };
}
