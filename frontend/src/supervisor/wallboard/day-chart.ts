// The day of one queue per 15-minute interval: offered and answered as bars, the service level
// as a line on its own 0–100 % scale, the goal dashed. Plain SVG, no chart library: a handful
// of rectangles and one path, redrawn with the figures.

import { html, nothing, svg } from "lit";
import type { Strings } from "../../shared/i18n.js";
import type { WallboardInterval } from "../../shared/types.js";
import { timeOfDay } from "./figures.js";

const W = 720;
const H = 200;
const PAD = { left: 34, right: 40, top: 12, bottom: 24 };
const SLOT_MS = 15 * 60_000;
/** At least four hours wide, so that the morning's first bars are not a wall. */
const MIN_SLOTS = 16;

/** A round maximum for a count axis: 5, 10, 20, 50, 100 … */
function niceMax(n: number): number {
  if (n <= 5) return 5;
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * power >= n) return step * power;
  return 10 * power;
}

export function dayChart(all: WallboardInterval[], goal: number | null, s: Strings, lang: string) {
  // The day starts at midnight: the quiet hours before the first contact are left out.
  const active = all.findIndex((i) => i.offered || i.answered || i.abandoned);
  const intervals = all.slice(Math.max(0, Math.min(active < 0 ? all.length : active, all.length - MIN_SLOTS)));
  const offered = intervals.reduce((n, i) => n + i.offered, 0);
  const answered = intervals.reduce((n, i) => n + i.answered, 0);
  const label = `${s.dayChart}: ${s.dayChartSummary(offered, answered)}`;
  if (!intervals.length) {
    return html`<figure class="chart"><figcaption>${s.dayChart}</figcaption><p class="muted">—</p></figure>`;
  }
  const starts = intervals.map((i) => Date.parse(i.start));
  const first = Math.min(...starts);
  const slots = Math.max(MIN_SLOTS, Math.round((Math.max(...starts) - first) / SLOT_MS) + 1);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slotW = plotW / slots;
  const max = niceMax(Math.max(1, ...intervals.map((i) => Math.max(i.offered, i.answered))));
  const x = (start: number) => PAD.left + ((start - first) / SLOT_MS) * slotW;
  const yCount = (n: number) => PAD.top + plotH - (n / max) * plotH;
  const ySl = (level: number) => PAD.top + plotH - level * plotH;
  const barW = Math.max(1, slotW * 0.38);

  // The SL line breaks where an interval has no service level (nothing answered nor abandoned).
  let path = "";
  let pen = false;
  for (const [k, i] of intervals.entries()) {
    if (i.service_level === null) {
      pen = false;
      continue;
    }
    const px = x(starts[k]) + slotW / 2;
    path += `${pen ? "L" : "M"}${px.toFixed(1)},${ySl(i.service_level).toFixed(1)}`;
    pen = true;
  }
  const hourTicks: number[] = [];
  const everyHours = slots > 48 ? 3 : slots > 24 ? 2 : 1;
  const firstHour = new Date(first);
  firstHour.setMinutes(0, 0, 0);
  for (let t = firstHour.getTime(); t <= first + slots * SLOT_MS; t += 3600_000) {
    if (t >= first && new Date(t).getHours() % everyHours === 0) hourTicks.push(t);
  }

  return html`<figure class="chart">
    <figcaption>${s.dayChart}
      <span class="legend"><span class="key offered"></span>${s.offered}
        <span class="key answered"></span>${s.answered}
        <span class="key sl"></span>${s.serviceLevel}</span></figcaption>
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-label=${label} data-testid="day-chart">
      ${[0, 0.5, 1].map((f) => svg`<line class="grid" x1=${PAD.left} x2=${W - PAD.right} y1=${yCount(max * f)} y2=${yCount(max * f)}></line>
        <text class="axis" x=${PAD.left - 6} y=${yCount(max * f) + 4} text-anchor="end">${Math.round(max * f)}</text>
        <text class="axis" x=${W - PAD.right + 6} y=${ySl(f) + 4}>${Math.round(f * 100)} %</text>`)}
      ${goal !== null ? svg`<line class="goal" x1=${PAD.left} x2=${W - PAD.right} y1=${ySl(goal)} y2=${ySl(goal)}></line>` : nothing}
      ${intervals.map((i, k) => {
        const bx = x(starts[k]) + slotW / 2;
        return svg`<g data-testid="interval"><title>${timeOfDay(starts[k], lang)} — ${s.offered} ${i.offered}, ${s.answered} ${i.answered}, ${s.abandoned} ${i.abandoned}${
          i.service_level !== null ? `, ${s.serviceLevel} ${Math.round(i.service_level * 100)} %` : ""}</title>
          <rect class="offered" x=${bx - barW} y=${yCount(i.offered)} width=${barW} height=${yCount(0) - yCount(i.offered)}></rect>
          <rect class="answered" x=${bx} y=${yCount(i.answered)} width=${barW} height=${yCount(0) - yCount(i.answered)}></rect></g>`;
      })}
      ${path ? svg`<path class="sl" d=${path} data-testid="sl-line"></path>` : nothing}
      ${hourTicks.map((t) => svg`<text class="axis" x=${x(t)} y=${H - 6} text-anchor="middle">${timeOfDay(t, lang)}</text>`)}
    </svg>
  </figure>`;
}
