/** Human output of a sweep: a table per curve and an SVG plot of p99 against the achieved rate. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fmtInt, formatTable } from '../table.ts';
import type { Curve } from './sweep.ts';

export function curveTable(title: string, curve: Curve): string {
  const rows = curve.steps.map((s) => [
    fmtInt(s.offered),
    fmtInt(s.achieved),
    s.p50.toFixed(1),
    s.p99.toFixed(1),
    s.p999.toFixed(1),
    s.max.toFixed(0),
    fmtInt(s.errors),
    fmtInt(s.overload),
    fmtInt(s.rejected),
    s.maxSendLagMs.toFixed(1),
    s.serverCpuUs === undefined ? '-' : s.serverCpuUs.toFixed(0),
  ]);
  const knee =
    curve.p99msAtKnee === null
      ? 'knee: none (no step held p99 ≤ 50 ms without errors)'
      : `knee: ${fmtInt(curve.knee)}/s at p99 ${curve.p99msAtKnee} ms`;
  return [
    title,
    formatTable(
      [
        'offered/s',
        'achieved/s',
        'p50 ms',
        'p99 ms',
        'p99.9 ms',
        'max ms',
        'errors',
        'overload',
        'rejected',
        'gen lag ms',
        'server CPU µs/req',
      ],
      rows,
    ),
    `${knee}${curve.stoppedBecause ? `; stopped: ${curve.stoppedBecause}` : ''}`,
    '',
  ].join('\n');
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

/**
 * p99 latency (log scale) against achieved rate (log scale), one line per curve, with the 50 ms
 * limit drawn across: where a line crosses it is that curve's knee.
 */
export function curvesSvg(title: string, curves: Record<string, Curve>): string {
  const W = 640;
  const H = 360;
  const m = { l: 60, r: 140, t: 30, b: 45 };
  const points = Object.values(curves).flatMap((c) =>
    c.steps.map((s) => ({ x: Math.max(1, s.achieved), y: s.p99 })),
  );
  const xMin = 10 ** Math.floor(Math.log10(Math.min(100, ...points.map((p) => p.x))));
  const xMax = 10 ** Math.ceil(Math.log10(Math.max(1_000, ...points.map((p) => p.x))));
  const yMin = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(1, ...points.map((p) => p.y)))));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(100, ...points.map((p) => p.y))));
  const r1 = (v: number) => Math.round(v * 10) / 10;
  const px = (x: number) =>
    r1(m.l + ((Math.log10(x) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))) * (W - m.l - m.r));
  const py = (y: number) =>
    r1(
      H -
        m.b -
        ((Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) *
          (H - m.t - m.b),
    );
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<title>${xmlText(title)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${m.l}" y="18" font-size="13">${xmlText(title)}</text>`,
  ];
  for (let x = xMin; x <= xMax; x *= 10)
    parts.push(
      `<line x1="${px(x)}" y1="${m.t}" x2="${px(x)}" y2="${H - m.b}" stroke="#ddd"/>`,
      `<text x="${px(x)}" y="${H - m.b + 14}" text-anchor="middle">${fmtInt(x)}</text>`,
    );
  for (let y = yMin; y <= yMax; y *= 10)
    parts.push(
      `<line x1="${m.l}" y1="${py(y)}" x2="${W - m.r}" y2="${py(y)}" stroke="#ddd"/>`,
      `<text x="${m.l - 6}" y="${py(y) + 4}" text-anchor="end">${y}</text>`,
    );
  parts.push(
    `<line x1="${m.l}" y1="${py(50)}" x2="${W - m.r}" y2="${py(50)}" stroke="#999" stroke-dasharray="4 3"/>`,
    `<text x="${W - m.r + 4}" y="${py(50) + 4}" fill="#666">p99 50 ms</text>`,
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">achieved requests/s (log)</text>`,
    `<text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">p99 latency, ms (log)</text>`,
  );
  Object.entries(curves).forEach(([name, curve], k) => {
    const color = COLORS[k % COLORS.length]!;
    const pts = curve.steps.map((s) => `${px(Math.max(1, s.achieved)).toFixed(1)},${py(s.p99).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    for (const p of pts) {
      const [cx, cy] = p.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`);
    }
    parts.push(
      `<text x="${W - m.r + 4}" y="${m.t + 14 + 16 * k}" fill="${color}">${xmlText(name)}: knee ${fmtInt(curve.knee)}/s</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Writes the plot where BENCH_PLOT_DIR says (default bench/results), and returns the path. */
export async function writePlot(file: string, svg: string): Promise<string> {
  const path = new URL(`../../results/${file}`, import.meta.url).pathname;
  const dir = process.env.BENCH_PLOT_DIR;
  const target = dir ? `${dir.replace(/\/+$/, '')}/${file}` : path;
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, svg);
  return target;
}
