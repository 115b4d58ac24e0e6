// pass@K and maj@K against K (log2 axis) as a standalone SVG: the shape of DeepSeekMath's Figure 7,
// where RL lifts maj@K but not pass@K. One solid (pass) and one dashed (maj) line per summary.
import type { Summary } from './metrics.js';

export interface Series {
  label: string;
  summary: Pick<Summary, 'pass_at_k' | 'maj_at_k'>;
}

export const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function plotSvg(series: Series[], title = 'pass@K and maj@K'): string {
  const W = 640;
  const H = 420;
  const m = { l: 60, r: 170, t: 40, b: 50 };
  const ks = [...new Set(series.flatMap((s) => Object.keys(s.summary.pass_at_k).map(Number)))].sort((a, b) => a - b);
  const vals = series.flatMap((s) => [...Object.values(s.summary.pass_at_k), ...Object.values(s.summary.maj_at_k)]);
  const kmax = Math.max(2, ...ks);
  let lo = Math.min(1, ...vals);
  let hi = Math.max(0, ...vals);
  lo = Math.max(0, Math.floor((lo - 0.05) * 10) / 10);
  hi = Math.min(1, Math.ceil((hi + 0.05) * 10) / 10);
  if (hi <= lo) hi = lo + 0.1;
  const x = (k: number) => m.l + (Math.log2(k) / Math.log2(kmax)) * (W - m.l - m.r);
  const y = (v: number) => H - m.b - ((v - lo) / (hi - lo)) * (H - m.t - m.b);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${(W - m.r + m.l) / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`);
  for (let t = 0; t <= 10; t++) {
    const v = lo + ((hi - lo) * t) / 10;
    out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${m.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${(100 * v).toFixed(0)}%</text>`);
  }
  for (const k of ks) {
    out.push(`<line x1="${x(k).toFixed(1)}" x2="${x(k).toFixed(1)}" y1="${m.t}" y2="${H - m.b}" stroke="#f3f3f3"/>`);
    out.push(`<text x="${x(k).toFixed(1)}" y="${H - m.b + 16}" text-anchor="middle">${k}</text>`);
  }
  out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="black"/>`);
  out.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="black"/>`);
  out.push(`<text x="${(W - m.r + m.l) / 2}" y="${H - 12}" text-anchor="middle">K (samples)</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const line = (pts: Record<string, number>, dash: boolean, name: string, row: number) => {
      const p = Object.entries(pts).map(([k, v]) => [Number(k), v] as const).sort((a, b) => a[0] - b[0]);
      if (!p.length) return;
      const d = p.map(([k, v], j) => `${j ? 'L' : 'M'}${x(k).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash ? ' stroke-dasharray="6 4"' : ''}/>`);
      for (const [k, v] of p) out.push(`<circle cx="${x(k).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${color}"><title>${esc(name)} @${k}: ${(100 * v).toFixed(1)}%</title></circle>`);
      const ly = m.t + 10 + row * 18;
      out.push(`<line x1="${W - m.r + 12}" x2="${W - m.r + 40}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash ? ' stroke-dasharray="6 4"' : ''}/>`);
      out.push(`<text x="${W - m.r + 46}" y="${ly + 4}">${esc(name)}</text>`);
    };
    line(s.summary.pass_at_k, false, `${s.label} pass@K`, 2 * i);
    line(s.summary.maj_at_k, true, `${s.label} maj@K`, 2 * i + 1);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
