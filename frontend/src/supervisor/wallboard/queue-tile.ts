// One queue on the wallboard: its key figures, its day, and the staffing it needs.

import { html, nothing } from "lit";
import type { Strings } from "../../shared/i18n.js";
import type { WallboardQueue } from "../../shared/types.js";
import { dayChart } from "./day-chart.js";
import { count, duration, percent, slStatus, type SlStatus } from "./figures.js";

function slFigure(label: string, level: number | null, q: WallboardQueue, s: Strings, testid: string) {
  const status = q.sl_goal !== null ? slStatus(level, q.sl_goal) : null;
  const words: Record<SlStatus, string> = { met: s.slMet, near: s.slNear, below: s.slBelow };
  // All queues with different goals: each queue's own tile says how it stands.
  const goal = q.sl_goal === null ? null
    : q.sl_target_s === null ? s.slGoal(Math.round(q.sl_goal * 100))
    : s.slVersusGoal(Math.round(q.sl_goal * 100), q.sl_target_s);
  return html`<dl class="figure sl ${status ?? ""}" aria-live="polite" data-testid=${testid} data-status=${status ?? "none"}>
    <dt>${label}</dt>
    <dd><span class="value">${percent(level)}</span>
      ${status ? html`<span class="verdict">${words[status]}</span>` : nothing}
      ${goal ? html`<span class="muted">${goal}</span>` : nothing}</dd>
  </dl>`;
}

/**
 * @param longestWaitS the longest wait now, ticked on from the figure the server gave.
 */
export function queueTile(q: WallboardQueue, longestWaitS: number | null, s: Strings, lang: string) {
  const a = q.agents;
  const key = q.id ?? "all";
  const name = q.id === null ? s.allQueues : q.name;
  return html`<section class="queue ${q.id === null ? "all" : ""}" aria-labelledby="queue-${key}"
      data-testid=${q.id === null ? "all-queues" : "queue"} data-queue-id=${key}>
    <h2 id="queue-${key}">${name} <span class="channels">${q.channels.map((c) => s.channelName[c as keyof Strings["channelName"]] ?? c).join(" · ")}</span></h2>
    <!-- The figures that change by the event are announced (politely) when they change. -->
    <div class="figures">
      <dl class="figure big ${q.waiting > 0 ? "waiting" : ""}" aria-live="polite" data-testid="waiting"><dt>${s.waitingNow}</dt>
        <dd class="value">${q.waiting}</dd></dl>
      ${slFigure(s.sl15, q.service_level_15m, q, s, "sl-15m")}
      ${slFigure(s.slToday, q.service_level_today, q, s, "sl-today")}
      <!-- Ticks every second: a timer, not announced. -->
      <dl class="figure big" role="timer" data-testid="longest-wait"><dt>${s.longestWait}</dt>
        <dd class="value">${q.waiting > 0 ? duration(longestWaitS) : duration(null)}</dd></dl>
      <dl class="figure"><dt>${s.asa}</dt><dd class="value">${duration(q.asa_s)}</dd></dl>
      <dl class="figure"><dt>${s.aht}</dt><dd class="value">${duration(q.aht_s)}</dd></dl>
      <dl class="figure wide" data-testid="volumes"><dt>${s.offered} / ${s.answered} / ${s.abandoned}</dt>
        <dd class="value" title=${s.volumesDetail(q.short_abandoned, q.timed_out, q.transferred_out)}>${q.offered} / ${q.answered} / ${q.abandoned}</dd></dl>
      <dl class="figure"><dt>${s.abandonmentRate}</dt><dd class="value">${percent(q.abandonment_rate)}</dd></dl>
      <dl class="figure wide agents" data-testid="agents"><dt>${s.agentsTitle}</dt>
        <dd><span><span class="dot available"></span>${s.available} <b>${a.available}</b></span>
          <span><span class="dot busy"></span>${s.busy} <b>${a.busy}</b></span>
          <span><span class="dot away"></span>${s.away} <b>${a.away}</b></span>
          <span><span class="dot offline"></span>${s.offline} <b>${a.offline}</b></span></dd></dl>
      <dl class="figure"><dt>${s.occupancy}</dt><dd class="value">${percent(q.occupancy)}</dd></dl>
      ${sla(q, s)}
    </div>
    ${dayChart(q.intervals, q.sl_goal, s, lang)}
    ${staffing(q, s)}
  </section>`;
}

/** E-mail tasks at risk of missing, or past, their SLA target: queues that take e-mail only. */
function sla(q: WallboardQueue, s: Strings) {
  if (!q.channels.includes("email") && !q.sla_at_risk && !q.sla_breached) return nothing;
  return html`<dl class="figure wide sla-clocks ${q.sla_breached ? "breached" : q.sla_at_risk ? "at-risk" : ""}"
      aria-live="polite" data-testid="sla"><dt>${s.slaTitle}</dt>
    <dd><span>${s.slaAtRisk} <b data-testid="sla-at-risk">${q.sla_at_risk}</b></span>
      <span>${s.slaBreached} <b data-testid="sla-breached">${q.sla_breached}</b></span></dd></dl>`;
}

function staffing(q: WallboardQueue, s: Strings) {
  if (!q.staffing || q.sl_goal === null || q.sl_target_s === null) return nothing;
  const needed = q.staffing.agents_needed;
  const short = needed !== null && q.staffing.agents_available < needed;
  return html`<p class="staffing ${short ? "short" : ""}" data-testid="staffing">${s.staffing(
    Math.round(q.sl_goal * 100), q.sl_target_s, count(needed), q.staffing.agents_available)}</p>`;
}
