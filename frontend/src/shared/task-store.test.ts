// The task store: a frame or answer older than what is known changes nothing.
import { TaskStore, type TaskChange } from "./task-store.js";
import { equal, ok, test } from "./testing.js";
import type { Task } from "./types.js";

function task(overrides: Partial<Task> = {}): Task {
  return {
    id: "t1", channel: "chat", queue_id: "q1", state: "queued", version: 1, priority: 0,
    requirements: {}, attributes: {}, conversation_id: "c1", contact_id: null, visitor_id: "v1",
    agent_id: null, attempts: 0, created_at: "2026-01-01T10:00:00Z", queued_at: "2026-01-01T10:00:00Z",
    not_before: null, deadline: null, assigned_at: null, wrap_up_until: null, ended_at: null,
    end_reason: null, ...overrides,
  };
}

function frame(command: string, t: Task) {
  return { type: "task" as const, seq: 0, command: command as "sync", task: t };
}

const future = () => new Date(Date.now() + 20_000).toISOString();

test("a newer version replaces the task and an older or equal one is ignored", () => {
  const store = new TaskStore();
  const changes: TaskChange[] = [];
  store.addEventListener("task", (e) => changes.push(e.detail));
  ok(store.applyFrame(frame("create", task({ version: 1 }))));
  ok(store.applyFrame(frame("reserve", task({ version: 3, state: "reserved", agent_id: "a1" }))));
  // Late: the enqueue of version 2 arrives after the reservation of version 3.
  ok(!store.applyFrame(frame("enqueue", task({ version: 2, state: "queued" }))), "older frame taken");
  // The same write twice (the frame, then the answer to one's own request).
  ok(!store.set(task({ version: 3, state: "reserved", agent_id: "a1" })), "equal version taken");
  equal(store.get("t1")?.state, "reserved");
  equal(changes.map((c) => [c.command, c.task.version, c.previous?.version ?? null]), [["create", 1, null], ["reserve", 3, 1]]);
});

test("applying every frame to a stale store gives the fresh store, in any order", () => {
  const frames = [
    frame("create", task({ version: 1 })),
    frame("reserve", task({ version: 2, state: "reserved", agent_id: "a1", deadline: future() })),
    frame("accept", task({ version: 3, state: "assigned", agent_id: "a1" })),
    frame("create", task({ id: "t2", version: 1 })),
    frame("complete", task({ version: 4, state: "wrap_up", agent_id: "a1" })),
    frame("reserve", task({ id: "t2", version: 2, state: "reserved", agent_id: "a2", deadline: future() })),
  ];
  const fresh = new TaskStore();
  frames.forEach((f) => fresh.applyFrame(f));
  const orders = [[...frames].reverse(), [frames[4], frames[0], frames[5], frames[2], frames[1], frames[3]]];
  for (const order of orders) {
    const stale = new TaskStore();
    stale.applyFrame(frames[0]);
    order.forEach((f) => stale.applyFrame(f));
    equal(stale.all().sort((a, b) => a.id.localeCompare(b.id)), fresh.all().sort((a, b) => a.id.localeCompare(b.id)));
  }
  equal(fresh.wrapUps("a1").map((t) => t.id), ["t1"]);
  equal(fresh.offers("a2").map((t) => t.id), ["t2"]);
  equal(fresh.offers("a1"), []);
});

test("offers are one agent's reserved tasks until their deadline, soonest first", () => {
  const store = new TaskStore();
  const now = Date.parse("2026-01-01T10:00:00Z");
  const at = (s: number) => new Date(now + s * 1000).toISOString();
  store.set(task({ id: "late", state: "reserved", agent_id: "a1", deadline: at(25) }));
  store.set(task({ id: "soon", state: "reserved", agent_id: "a1", deadline: at(5) }));
  store.set(task({ id: "lapsed", state: "reserved", agent_id: "a1", deadline: at(-10) }));
  store.set(task({ id: "other", state: "reserved", agent_id: "a2", deadline: at(25) }));
  store.set(task({ id: "queued", state: "queued" }));
  equal(store.offers("a1", now).map((t) => t.id), ["soon", "late"]);
  equal(store.offers(null, now), []);
  equal(store.waiting().map((t) => t.id).sort(), ["lapsed", "late", "other", "queued", "soon"]);
});

test("reconcile removes what ended unseen but keeps what changed since the request", () => {
  const store = new TaskStore();
  store.set(task({ id: "ended-unseen", state: "reserved", agent_id: "a1", version: 2 }));
  store.set(task({ id: "listed", state: "wrap_up", agent_id: "a1", version: 5 }));
  const since = store.mark();
  // While the request is on its way, a frame brings a new offer.
  store.applyFrame(frame("reserve", task({ id: "new", state: "reserved", agent_id: "a1", version: 1 })));
  store.reconcile([task({ id: "listed", state: "wrap_up", agent_id: "a1", version: 4 })], ["reserved", "wrap_up"], since);
  equal(store.all().map((t) => t.id).sort(), ["listed", "new"]);
  equal(store.get("listed")?.version, 5, "an older list does not go back");
  // The removed task's late frame, of the version it had, does not bring it back.
  ok(!store.applyFrame(frame("sync", task({ id: "ended-unseen", state: "reserved", agent_id: "a1", version: 2 }))));
  ok(store.applyFrame(frame("enqueue", task({ id: "ended-unseen", state: "queued", version: 3 }))));
});

test("ended tasks are kept for a while, then forgotten", () => {
  const store = new TaskStore();
  store.set(task({ state: "completed", version: 6, ended_at: "2026-01-01T10:00:00Z" }));
  store.prune(Date.parse("2026-01-01T10:30:00Z"));
  ok(!store.applyFrame(frame("accept", task({ state: "assigned", version: 5 }))), "a late frame resurrected it");
  store.prune(Date.parse("2026-01-01T11:30:00Z"));
  equal(store.all(), []);
});
