// The wallboard with fixtures for REST and the WebSocket.
import { strings } from "../../shared/i18n.js";
import { FakeSocket, deepQuery, deepQueryAll, equal, mount, ok, stubFetch, test, waitFor, type Route } from "../../shared/testing.js";
import type { Queue, Task, Wallboard, WallboardQueue } from "../../shared/types.js";
import { slStatus } from "./figures.js";
import "./wallboard.js";

const s = strings("en");
const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();
const supervisor = { id: "s1", email: "sam@relais.example", name: "Sam", role: "supervisor", presence: "available", presence_reason: null, team_ids: [] };

function queue(overrides: Partial<WallboardQueue> = {}): WallboardQueue {
  const day = new Date();
  day.setHours(9, 0, 0, 0);
  const slot = (k: number) => new Date(day.getTime() + k * 15 * 60_000).toISOString();
  return {
    id: "q1", name: "Support FR", channels: ["chat", "email"], waiting: 3, longest_wait_s: 42,
    offered: 120, answered: 110, abandoned: 10, short_abandoned: 2, timed_out: 1, transferred_out: 3, abandonment_rate: 0.083,
    service_level_15m: 0.85, service_level_today: 0.77, sl_target_s: 20, sl_goal: 0.8, asa_s: 14, aht_s: 312,
    agents: { available: 2, busy: 3, away: 1, offline: 4 }, occupancy: 0.71,
    intervals: [0, 1, 2, 3, 4, 5].map((k) => ({
      start: slot(k), offered: 10 + k, answered: 9 + k, abandoned: 1, service_level: k === 3 ? null : 0.7 + k * 0.04, asa_s: 12,
    })),
    staffing: { calls_per_hour: 46, aht_s: 312, agents_needed: 6, agents_available: 5 },
    sla_at_risk: 2, sla_breached: 1,
    ...overrides,
  };
}

function board(overrides: Partial<Wallboard> = {}): Wallboard {
  const day = new Date();
  day.setHours(0, 0, 0, 0);
  return {
    generated_at: new Date().toISOString(),
    day_start: day.toISOString(),
    all_queues: queue({ id: null, name: "", waiting: 3, offered: 150, sl_target_s: null, sl_goal: null, staffing: null }),
    queues: [
      queue(),
      queue({ id: "q2", name: "Sales", channels: ["chat"], sla_at_risk: 0, sla_breached: 0, waiting: 0, longest_wait_s: null, service_level_15m: 0.6, service_level_today: null, intervals: [], staffing: { calls_per_hour: null, aht_s: null, agents_needed: null, agents_available: 1 } }),
    ],
    agents: [
      { id: "a2", name: "Bruno", presence: "available", reason: null, tasks: 1, occupancy: 0.5 },
      { id: "a1", name: "Alice", presence: "away", reason: "lunch", tasks: 0, occupancy: null },
    ],
    ...overrides,
  };
}

function apiQueue(id: string, name: string, channels: string[]): Queue {
  return { id, name, channels, team_ids: [], overflow_team_ids: [], rules: {}, hours: null, sl_target_s: 20, sl_goal: 0.8 };
}

function task(overrides: Partial<Task> = {}): Task {
  return {
    id: "t1", channel: "chat", queue_id: "q1", state: "queued", version: 1, priority: 0, requirements: {},
    attributes: { language: "fr", reason: "delivery" }, conversation_id: "c1", contact_id: null, visitor_id: "v1",
    agent_id: null, attempts: 0, created_at: ago(30), queued_at: ago(30), not_before: null, deadline: null,
    assigned_at: null, wrap_up_until: null, ended_at: null, end_reason: null, ...overrides,
  };
}

/** The routes of a signed-in supervisor; `boards` counts and times the wallboard's fetches. */
function routes(extra: Record<string, Route> = {}, boards: number[] = []) {
  return stubFetch({
    "GET /api/v1/auth/me": () => ({ body: { agent: supervisor, csrf_token: "csrf-1" } }),
    "GET /api/v1/wallboard": () => {
      boards.push(performance.now());
      return { body: board() };
    },
    "GET /api/v1/tasks": () => ({ body: [task()] }),
    "GET /api/v1/queues": () => ({ body: [apiQueue("q1", "Support FR", ["chat", "email"]), apiQueue("q2", "Sales", ["chat"]), apiQueue("q3", "Mail", ["email"])] }),
    ...extra,
  });
}

function wallboard() {
  return mount(document.createElement("relais-wallboard"));
}

const root = (el: HTMLElement) => el.shadowRoot!;
const text = (el: Element | null | undefined) => el?.textContent?.replace(/\s+/g, " ").trim() ?? "";

test("the service level is met at the goal, near within 5 points, below under that", () => {
  equal([0.8, 0.95, 0.76, 0.75, 0.744, 0.2, null].map((l) => slStatus(l, 0.8)), ["met", "met", "near", "near", "below", "below", null]);
});

test("an agent is told the wallboard is for supervisors only", async () => {
  FakeSocket.install();
  stubFetch({ "GET /api/v1/auth/me": () => ({ body: { agent: { ...supervisor, role: "agent" }, csrf_token: "x" } }) });
  const el = wallboard();
  const message = await waitFor(() => deepQuery("[data-testid=supervisors-only]", root(el)), "the message");
  equal(text(message), s.supervisorsOnly);
  equal(message.getAttribute("role"), "alert");
  equal(FakeSocket.instances.length, 0, "no WebSocket for an agent");
});

test("without a session the login form shows, titled for the wallboard", async () => {
  FakeSocket.install();
  stubFetch({ "GET /api/v1/auth/me": () => ({ status: 401, body: { error: { code: "unauthorized", message: "Log in." } } }) });
  const el = wallboard();
  const form = await waitFor(() => deepQuery("relais-login-form", root(el)), "the form");
  await waitFor(() => text(deepQuery("h1", form.shadowRoot!)) === s.wallboardTitle, "its title");
});

test("each queue shows its figures, service levels in colour and words, its day and its staffing", async () => {
  FakeSocket.install();
  routes();
  const el = wallboard();
  const tiles = await waitFor(() => {
    const found = deepQueryAll("[data-testid=queue]", root(el));
    return found.length === 2 && found;
  }, "two queues");
  const [q1, q2] = tiles;
  equal(text(deepQuery("h2", q1)), "Support FR Chat · E-mail");
  equal(text(deepQuery("[data-testid=waiting] dd", q1)), "3");
  equal(deepQuery("[data-testid=waiting]", q1)!.getAttribute("aria-live"), "polite");
  const sl15 = deepQuery("[data-testid=sl-15m]", q1)!;
  equal([sl15.dataset.status, text(deepQuery("dd", sl15))], ["met", "85 % on goal goal 80 % in 20 s"]);
  equal(deepQuery("[data-testid=sl-today]", q1)!.dataset.status, "near");
  equal(text(deepQuery("[data-testid=sl-today] .verdict", q1)), "near goal");
  equal(deepQuery("[data-testid=sl-15m]", q2)!.dataset.status, "below");
  equal(text(deepQuery("[data-testid=sl-today] dd", q2)), "— goal 80 % in 20 s", "no data is a dash, not 0 %");
  const green = getComputedStyle(deepQuery("[data-testid=sl-15m] .value", q1)!).color;
  const red = getComputedStyle(deepQuery("[data-testid=sl-15m] .value", q2)!).color;
  ok(green !== red, "met and below differ in colour too");
  equal(text(deepQuery("[data-testid=volumes] dd", q1)), "120 / 110 / 10");
  equal(text(deepQuery("[data-testid=agents] dd", q1)), "Available 2 Busy 3 Away 1 Offline 4");
  equal(text(deepQuery("[data-testid=staffing]", q1)), "Agents needed for 80 % in 20 s at today's traffic: 6, available now: 5");
  equal(text(deepQuery("[data-testid=staffing]", q2)), "Agents needed for 80 % in 20 s at today's traffic: —, available now: 1");
  equal(text(deepQuery("[data-testid=sla] dd", q1)), "At risk 2 Breached 1");
  ok(deepQuery("[data-testid=sla]", q1)!.classList.contains("breached"));
  equal(deepQuery("[data-testid=sla]", q2), null, "a chat-only queue has no e-mail SLA");
  // The chart: one group per interval, the service level as one line broken where it has none.
  const chart = deepQuery("[data-testid=day-chart]", q1)!;
  equal(deepQueryAll("[data-testid=interval]", chart).length, 6);
  equal((deepQuery("[data-testid=sl-line]", chart)!.getAttribute("d")!.match(/M/g) ?? []).length, 2);
  ok(chart.getAttribute("aria-label")!.includes("75 offered, 69 answered today"), chart.getAttribute("aria-label")!);
  // The longest wait ticks on from the server's figure; an empty queue has none.
  const wait = () => text(deepQuery("[data-testid=longest-wait] dd", q1));
  const first = wait();
  ok(first === "0:42" || first === "0:43", first);
  await waitFor(() => wait() !== first, "the wait to tick", 2500);
  equal(text(deepQuery("[data-testid=longest-wait] dd", q2)), "—");
  equal(deepQuery("[data-testid=longest-wait]", q1)!.getAttribute("role"), "timer");
});

test("task and presence frames fetch the figures again, at most once a second", async () => {
  FakeSocket.install();
  const boards: number[] = [];
  routes({}, boards);
  const el = wallboard();
  await waitFor(() => boards.length === 1 && FakeSocket.instances.length === 1, "the first fetch");
  const socket = FakeSocket.last();
  socket.ready({ kind: "agent", id: "s1", name: "Sam" });
  for (let k = 0; k < 5; k++) {
    socket.serve({ type: "task", command: "enqueue", task: task({ id: `n${k}`, version: 1 }) });
    socket.serve({ type: "presence", agent_id: "a1", presence: "available" });
  }
  // The waiting list follows the frames at once.
  await waitFor(() => deepQueryAll("[data-testid=waiting-tasks] tbody tr", root(el)).length === 6, "six waiting");
  await waitFor(() => boards.length === 2, "one fetch for the burst", 2500);
  socket.serve({ type: "presence", agent_id: "a1", presence: "away" });
  await waitFor(() => boards.length === 3, "the next one", 2500);
  await new Promise((r) => setTimeout(r, 1200));
  equal(boards.length, 3, "no fetch without a frame");
  for (let k = 1; k < boards.length; k++) ok(boards[k] - boards[k - 1] >= 950, `fetches ${Math.round(boards[k] - boards[k - 1])} ms apart`);
});

test("the figures are polled even without frames", async () => {
  FakeSocket.install();
  const boards: number[] = [];
  routes({}, boards);
  const el = document.createElement("relais-wallboard");
  el.pollMs = 300;
  mount(el);
  await waitFor(() => boards.length >= 3, "three fetches", 2500);
});

test("a supervisor sets an agent away and moves a waiting task to another queue", async () => {
  FakeSocket.install();
  const moved = task({ queue_id: "q2", version: 2 });
  const calls = routes({
    "PUT /api/v1/agents/a2/presence": () => ({ body: {} }),
    "POST /api/v1/tasks/t1/transfer": () => ({ body: moved }),
  });
  const el = wallboard();
  const rows = await waitFor(() => {
    const found = deepQueryAll("[data-testid=agents-table] tbody tr", root(el));
    return found.length === 2 && found;
  }, "the agents");
  equal(rows.map((r) => text(r.querySelector("th"))), ["Alice", "Bruno"]);
  equal(text(rows[0].querySelectorAll("td")[2]), "—", "no occupancy yet");
  const presence = rows[1].querySelector<HTMLSelectElement>("[data-testid=agent-presence]")!;
  equal(presence.getAttribute("aria-label"), "Presence of Bruno");
  presence.value = "away";
  presence.dispatchEvent(new Event("change"));
  await waitFor(() => calls.some((c) => c.method === "PUT"), "the PUT");
  const put = calls.find((c) => c.method === "PUT")!;
  equal([put.path, put.body, put.headers["x-csrf-token"]], ["/api/v1/agents/a2/presence", { presence: "away" }, "csrf-1"]);

  const row = await waitFor(() => deepQuery("[data-testid=waiting-tasks] tr[data-task-id=t1]", root(el)), "the task");
  ok(/^0:(29|3\d)$/.test(text(row.querySelectorAll("td")[1])), text(row.querySelectorAll("td")[1]));
  const move = row.querySelector<HTMLSelectElement>("[data-testid=move-task]")!;
  // Not to its own queue, nor to one that does not take its channel.
  equal([...move.options].map((o) => o.value), ["", "q2"]);
  move.value = "q2";
  move.dispatchEvent(new Event("change"));
  await waitFor(() => calls.some((c) => c.path === "/api/v1/tasks/t1/transfer"), "the transfer");
  equal(calls.find((c) => c.path === "/api/v1/tasks/t1/transfer")!.body, { queue_id: "q2" });
  await waitFor(() => text(deepQuery("[data-testid=waiting-tasks] tr[data-task-id=t1] td", root(el))) === "Sales", "moved");
});

test("an offered task says to whom; a task that leaves the queue leaves the list", async () => {
  FakeSocket.install();
  routes();
  const el = wallboard();
  await waitFor(() => deepQuery("[data-testid=waiting-tasks] tr[data-task-id=t1]", root(el)), "the task");
  await waitFor(() => FakeSocket.instances.length === 1, "the socket");
  const socket = FakeSocket.last();
  socket.ready({ kind: "agent", id: "s1", name: "Sam" });
  socket.serve({ type: "task", command: "reserve", task: task({ state: "reserved", agent_id: "a2", version: 2 }) });
  await waitFor(() => text(deepQuery("[data-testid=waiting-tasks] tr[data-task-id=t1]", root(el))?.querySelectorAll("td")[3]) === "offered to Bruno", "offered");
  socket.serve({ type: "task", command: "accept", task: task({ state: "assigned", agent_id: "a2", version: 3 }) });
  await waitFor(() => text(deepQuery("p.muted", deepQuery("[aria-labelledby=tasks-title]", root(el))!)) === s.noWaitingTasks, "empty");
});

test("the day's chart leaves out the quiet hours before the first contact", async () => {
  FakeSocket.install();
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  const slot = (k: number) => new Date(midnight.getTime() + k * 15 * 60_000).toISOString();
  const intervals = Array.from({ length: 60 }, (_, k) => ({
    start: slot(k), offered: k >= 36 ? 4 : 0, answered: k >= 36 ? 3 : 0, abandoned: 0, service_level: k >= 36 ? 0.9 : null, asa_s: null,
  }));
  routes({ "GET /api/v1/wallboard": () => ({ body: board({ queues: [queue({ intervals })] }) }) });
  const el = wallboard();
  const chart = await waitFor(() => deepQuery("[data-testid=day-chart]", root(el)), "the chart");
  // From 09:00 (the first contact) on: 24 intervals up to 15:00, not 60 from midnight.
  equal(deepQueryAll("[data-testid=interval]", chart).length, 24);
});

test("with more than one queue, all queues come first, without a goal when the queues' differ", async () => {
  FakeSocket.install();
  routes();
  const el = wallboard();
  const all = await waitFor(() => deepQuery("[data-testid=all-queues]", root(el)), "the all-queues tile");
  ok(text(all.querySelector("h2")).startsWith("All queues"), text(all.querySelector("h2")));
  equal(text(all.querySelector("[data-testid=volumes] .value")), "150 / 110 / 10");
  equal(all.querySelector("[data-testid=sl-today]")!.getAttribute("data-status"), "none");
  equal(all.querySelector("[data-testid=staffing]"), null);
  const tiles = deepQueryAll("[data-testid=queue], [data-testid=all-queues]", root(el));
  equal(tiles[0], all);
});

test("a single queue is its own total: no all-queues tile", async () => {
  FakeSocket.install();
  routes({ "GET /api/v1/wallboard": () => ({ body: board({ queues: [queue()] }) }) });
  const el = wallboard();
  await waitFor(() => deepQuery("[data-testid=queue]", root(el)), "the queue");
  equal(deepQuery("[data-testid=all-queues]", root(el)), null);
});
