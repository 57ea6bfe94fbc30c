/**
 * Minimal SVG charts written by the bench itself (no plotting service, no dependency):
 * distributions (dots + box), histograms, line charts and horizontal bars.
 *
 * @module
 */

const W = 760;
const FONT = `font-family="system-ui, -apple-system, 'Segoe UI', sans-serif"`;
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"];

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const span = hi - lo;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) ?? mag * 10;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Math.round(v * 1e6) / 1e6);
  }
  return out;
}

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  return out;
}

const fmt = (v: number) =>
  Math.abs(v) >= 1e6
    ? `${+(v / 1e6).toPrecision(3)}M`
    : Math.abs(v) >= 1e4
    ? `${+(v / 1e3).toPrecision(3)}k`
    : `${+v.toPrecision(3)}`;

interface Scale {
  map: (v: number) => number;
  ticks: number[];
}

function scale(lo: number, hi: number, a: number, b: number, log: boolean): Scale {
  if (log) {
    const l0 = Math.log10(Math.max(lo, 1e-9));
    const l1 = Math.log10(Math.max(hi, lo * 1.0001));
    return {
      map: (v) => a + ((Math.log10(Math.max(v, 1e-9)) - l0) / (l1 - l0 || 1)) * (b - a),
      ticks: logTicks(10 ** l0, 10 ** l1),
    };
  }
  return { map: (v) => a + ((v - lo) / (hi - lo || 1)) * (b - a), ticks: niceTicks(lo, hi) };
}

function frame(height: number, title: string, body: string, note?: string, width = W): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="600">${
    esc(title)
  }</text>
${body}
${
    note
      ? `<text x="${width / 2}" y="${height - 6}" text-anchor="middle" fill="#555" font-size="11">${
        esc(note)
      }</text>`
      : ""
  }
</svg>
`;
}

function quant(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** One row of {@linkcode distributionPlot}. */
export interface DistributionSeries {
  /** Row label. */
  label: string;
  /** Values. */
  values: number[];
}

/**
 * Distributions side by side: every value as a dot, a box from p25 to p75, the median as
 * a thick line and p95 as a tick.
 *
 * @param options Title, unit, rows, log axis, note.
 * @returns SVG text.
 */
export function distributionPlot(options: {
  title: string;
  unit: string;
  series: DistributionSeries[];
  log?: boolean;
  note?: string;
}): string {
  const rows = options.series.filter((s) => s.values.some(Number.isFinite));
  const all = rows.flatMap((s) => s.values.filter(Number.isFinite));
  const left = 190;
  const right = W - 30;
  const rowH = 46;
  const top = 40;
  const height = top + rows.length * rowH + 60;
  if (all.length === 0) return frame(120, options.title, `<text x="20" y="60">no data</text>`);
  const lo = options.log ? Math.min(...all) * 0.8 : 0;
  const hi = Math.max(...all) * 1.05;
  const sx = scale(lo, hi, left, right, options.log ?? false);
  let body = "";
  const axisY = top + rows.length * rowH + 4;
  for (const t of sx.ticks) {
    const x = sx.map(t);
    body += `<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${axisY}" stroke="#e5e5e5"/>`;
    body += `<text x="${x}" y="${axisY + 16}" text-anchor="middle" fill="#333">${fmt(t)}</text>`;
  }
  body += `<text x="${(left + right) / 2}" y="${axisY + 34}" text-anchor="middle">${
    esc(options.unit)
  }${options.log ? " (log scale)" : ""}</text>`;
  rows.forEach((s, i) => {
    const cy = top + i * rowH + rowH / 2;
    const color = COLORS[i % COLORS.length];
    const v = s.values.filter(Number.isFinite).sort((a, b) => a - b);
    const [q1, med, q3, p95] = [0.25, 0.5, 0.75, 0.95].map((q) => quant(v, q));
    body += `<text x="${left - 10}" y="${cy - 3}" text-anchor="end" font-weight="600">${
      esc(s.label)
    }</text>`;
    body += `<text x="${left - 10}" y="${cy + 12}" text-anchor="end" fill="#555">p50 ${
      fmt(med)
    } · p95 ${fmt(p95)} · n=${v.length}</text>`;
    body += `<rect x="${sx.map(q1)}" y="${cy - 12}" width="${
      Math.max(1, sx.map(q3) - sx.map(q1))
    }" height="24" fill="${color}" fill-opacity="0.15" stroke="${color}"/>`;
    body += `<line x1="${sx.map(med)}" y1="${cy - 14}" x2="${sx.map(med)}" y2="${
      cy + 14
    }" stroke="${color}" stroke-width="3"/>`;
    body += `<line x1="${sx.map(p95)}" y1="${cy - 8}" x2="${sx.map(p95)}" y2="${
      cy + 8
    }" stroke="${color}" stroke-width="1.5" stroke-dasharray="3,2"/>`;
    v.forEach((x, j) => {
      const jitter = ((j * 37) % 17) - 8;
      body += `<circle cx="${sx.map(x).toFixed(1)}" cy="${
        cy + jitter
      }" r="2.6" fill="${color}" fill-opacity="0.75"/>`;
    });
  });
  return frame(height, options.title, body, options.note);
}

/**
 * A histogram.
 *
 * @param options Title, unit, values, bin width, optional markers (vertical lines).
 * @returns SVG text.
 */
export function histogram(options: {
  title: string;
  unit: string;
  values: number[];
  binWidth: number;
  markers?: { at: number; label: string }[];
  note?: string;
}): string {
  const v = options.values.filter(Number.isFinite);
  if (v.length === 0) return frame(120, options.title, `<text x="20" y="60">no data</text>`);
  const left = 60;
  const right = W - 20;
  const top = 40;
  const bottom = 300;
  const maxV = Math.max(...v, ...(options.markers ?? []).map((m) => m.at));
  const bins = Math.max(1, Math.ceil((maxV + 1e-9) / options.binWidth));
  const counts = new Array(bins).fill(0);
  for (const x of v) counts[Math.min(bins - 1, Math.floor(x / options.binWidth))]++;
  const sx = scale(0, bins * options.binWidth, left, right, false);
  const maxC = Math.max(...counts);
  const sy = (c: number) => bottom - (c / maxC) * (bottom - top - 10);
  let body = "";
  for (const t of niceTicks(0, maxC, 5)) {
    body += `<line x1="${left}" y1="${sy(t)}" x2="${right}" y2="${sy(t)}" stroke="#eee"/>`;
    body += `<text x="${left - 6}" y="${sy(t) + 4}" text-anchor="end">${fmt(t)}</text>`;
  }
  counts.forEach((c, i) => {
    if (c === 0) return;
    const x0 = sx.map(i * options.binWidth);
    const x1 = sx.map((i + 1) * options.binWidth);
    body += `<rect x="${x0 + 0.5}" y="${sy(c)}" width="${Math.max(1, x1 - x0 - 1)}" height="${
      bottom - sy(c)
    }" fill="${COLORS[0]}"/>`;
  });
  for (const t of sx.ticks) {
    body += `<text x="${sx.map(t)}" y="${bottom + 16}" text-anchor="middle">${fmt(t)}</text>`;
  }
  for (const [i, m] of (options.markers ?? []).entries()) {
    const x = sx.map(m.at);
    body += `<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="${
      COLORS[1 + (i % 3)]
    }" stroke-dasharray="5,3"/><text x="${x + 4}" y="${top + 12 + i * 14}" fill="${
      COLORS[1 + (i % 3)]
    }">${esc(m.label)}</text>`;
  }
  body += `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#333"/>`;
  body += `<text x="${(left + right) / 2}" y="${bottom + 34}" text-anchor="middle">${
    esc(options.unit)
  } (bins of ${options.binWidth})</text>`;
  body += `<text x="16" y="${(top + bottom) / 2}" transform="rotate(-90 16 ${
    (top + bottom) / 2
  })" text-anchor="middle">count</text>`;
  return frame(bottom + 60, options.title, body, options.note);
}

/** One line of {@linkcode linePlot}. */
export interface LineSeries {
  /** Legend label. */
  label: string;
  /** Points (x, y); non-finite y values are skipped. */
  points: [number, number][];
  /** Draw dashed. */
  dashed?: boolean;
}

/**
 * A line chart with one or more series (optional log axes).
 *
 * @param options Title, axis labels, series.
 * @returns SVG text.
 */
export function linePlot(options: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  logX?: boolean;
  logY?: boolean;
  note?: string;
}): string {
  const pts = options.series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  if (pts.length === 0) return frame(120, options.title, `<text x="20" y="60">no data</text>`);
  const left = 70;
  const right = W - 170;
  const top = 40;
  const bottom = 320;
  const xs = pts.map(([x]) => x);
  const ys = pts.map(([, y]) => y);
  const sx = scale(
    options.logX ? Math.min(...xs) * 0.9 : 0,
    Math.max(...xs) * 1.05,
    left,
    right,
    options.logX ?? false,
  );
  const sy = scale(
    options.logY ? Math.max(Math.min(...ys) * 0.8, 1e-3) : 0,
    Math.max(...ys) * 1.1,
    bottom,
    top,
    options.logY ?? false,
  );
  let body = "";
  for (const t of sy.ticks) {
    body += `<line x1="${left}" y1="${sy.map(t)}" x2="${right}" y2="${
      sy.map(t)
    }" stroke="#eee"/><text x="${left - 6}" y="${sy.map(t) + 4}" text-anchor="end">${
      fmt(t)
    }</text>`;
  }
  for (const t of sx.ticks) {
    body += `<text x="${sx.map(t)}" y="${bottom + 16}" text-anchor="middle">${fmt(t)}</text>`;
  }
  body += `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#333"/>`;
  body += `<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#333"/>`;
  options.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const p = s.points.filter(([, y]) => Number.isFinite(y)).sort((a, b) => a[0] - b[0]);
    if (p.length === 0) return;
    body += `<polyline fill="none" stroke="${color}" stroke-width="2" ${
      s.dashed ? 'stroke-dasharray="6,4"' : ""
    } points="${p.map(([x, y]) => `${sx.map(x).toFixed(1)},${sy.map(y).toFixed(1)}`).join(" ")}"/>`;
    for (const [x, y] of p) {
      body += `<circle cx="${sx.map(x).toFixed(1)}" cy="${
        sy.map(y).toFixed(1)
      }" r="3.5" fill="${color}"/>`;
    }
    const ly = top + 10 + i * 18;
    body += `<line x1="${right + 14}" y1="${ly}" x2="${
      right + 34
    }" y2="${ly}" stroke="${color}" stroke-width="2" ${
      s.dashed ? 'stroke-dasharray="6,4"' : ""
    }/><text x="${right + 40}" y="${ly + 4}">${esc(s.label)}</text>`;
  });
  body += `<text x="${(left + right) / 2}" y="${bottom + 36}" text-anchor="middle">${
    esc(options.xLabel)
  }${options.logX ? " (log)" : ""}</text>`;
  body += `<text x="18" y="${(top + bottom) / 2}" transform="rotate(-90 18 ${
    (top + bottom) / 2
  })" text-anchor="middle">${esc(options.yLabel)}${options.logY ? " (log)" : ""}</text>`;
  return frame(bottom + 60, options.title, body, options.note);
}

/**
 * Horizontal bars (e.g. the median duration of each join step).
 *
 * @param options Title, unit, bars (label, value, optional note), highlight the largest.
 * @returns SVG text.
 */
export function barChart(options: {
  title: string;
  unit: string;
  bars: { label: string; value: number; note?: string }[];
  note?: string;
}): string {
  const bars = options.bars.filter((b) => Number.isFinite(b.value));
  if (bars.length === 0) return frame(120, options.title, `<text x="20" y="60">no data</text>`);
  const width = 900;
  const longest = Math.max(...bars.map((b) => b.label.length));
  const left = Math.min(420, 24 + longest * 6.6);
  const right = width - 90;
  const top = 40;
  const rowH = 26;
  const max = Math.max(...bars.map((b) => b.value));
  const sx = scale(0, max * 1.05, left, right, false);
  let body = "";
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const color = b.value === max ? COLORS[1] : COLORS[0];
    body += `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>`;
    body += `<rect x="${left}" y="${y + 3}" width="${
      Math.max(1, sx.map(b.value) - left)
    }" height="${rowH - 8}" fill="${color}"/>`;
    body += `<text x="${sx.map(b.value) + 6}" y="${y + 15}">${fmt(b.value)} ${
      esc(b.note ?? "")
    }</text>`;
  });
  const axisY = top + bars.length * rowH + 4;
  for (const t of sx.ticks) {
    body += `<text x="${sx.map(t)}" y="${axisY + 14}" text-anchor="middle" fill="#555">${
      fmt(t)
    }</text>`;
  }
  body += `<text x="${(left + right) / 2}" y="${axisY + 32}" text-anchor="middle">${
    esc(options.unit)
  }</text>`;
  return frame(axisY + 56, options.title, body, options.note, width);
}
