// The tasks of the ACD as one client knows them: the desk's offers and wrap-ups, the wallboard's
// waiting tasks. Fed by `task` frames and REST answers alike, in any order: every write of a task
// raises its version on the server (docs/decisions/0006-acd-lease-and-versions.md), so a frame or
// answer older than what is known changes nothing, and a repeated one neither.

import type { FrameOf, Task, TaskCommand, TaskState } from "./types.js";

/** What one accepted write changed. `previous` is undefined for a task seen for the first time. */
export interface TaskChange {
  task: Task;
  previous: Task | undefined;
  /** The frame's command; "rest" for an answer to a request; "removed" when reconciled away. */
  command: TaskCommand | "rest" | "removed";
}

/**
 * @event change - after any accepted write (a plain `Event`).
 * @event task - `CustomEvent<TaskChange>`, once per accepted write.
 */
export interface TaskStoreEventMap {
  change: Event;
  task: CustomEvent<TaskChange>;
}

const LIVE: readonly TaskState[] = ["scheduled", "queued", "reserved", "assigned", "wrap_up"];
/** Ended tasks are kept this long, so that a late frame about them cannot bring them back. */
const KEEP_ENDED_MS = 60 * 60_000;

export function isLive(task: Task): boolean {
  return LIVE.includes(task.state);
}

export class TaskStore extends EventTarget {
  private readonly tasks = new Map<string, Task>();
  /** When each task was last written here, on the store's own counter (see reconcile). */
  private readonly stamps = new Map<string, number>();
  private stamp = 0;
  /** Versions of the tasks that reconcile removed. */
  private readonly removed = new Map<string, number>();

  get(id: string): Task | undefined {
    return this.tasks.get(id);
  }

  all(): Task[] {
    return [...this.tasks.values()];
  }

  /** A `task` frame. */
  applyFrame(frame: FrameOf<"task">): boolean {
    return this.put(frame.task, frame.command);
  }

  /** A task as a REST call answered it (accept, reject, transfer …). */
  set(task: Task): boolean {
    return this.put(task, "rest");
  }

  /**
   * Takes the task unless a newer or equal version is already known. Returns whether it did.
   * Equal versions are the same write seen twice (a frame and the answer to one's own request).
   */
  put(task: Task, command: TaskChange["command"]): boolean {
    if (!this.take(task, command)) return false;
    this.dispatchEvent(new Event("change"));
    return true;
  }

  /** The store's counter now: give it to `reconcile` with a list fetched after this moment. */
  mark(): number {
    return this.stamp;
  }

  /**
   * A list of the tasks in `states` as REST gave it, asked for when the counter was `since`:
   * each one is taken (newer versions only); a known task in those states that is missing from
   * the list and was not written since the request left has left those states meanwhile (its
   * frame was missed): it is removed. One written since may be newer than the list: it stays.
   */
  reconcile(list: Task[], states: readonly TaskState[], since: number): void {
    const listed = new Set(list.map((t) => t.id));
    let changed = false;
    for (const task of list) changed = this.take(task, "rest") || changed;
    for (const [id, task] of [...this.tasks]) {
      if (listed.has(id) || !states.includes(task.state) || (this.stamps.get(id) ?? 0) > since) continue;
      this.tasks.delete(id);
      this.stamps.delete(id);
      // Its version stays known: a late frame of that version or older cannot bring it back.
      this.removed.set(id, task.version);
      this.dispatchEvent(new CustomEvent<TaskChange>("task", { detail: { task, previous: task, command: "removed" } }));
      changed = true;
    }
    if (changed) this.dispatchEvent(new Event("change"));
  }

  /** Offers to this agent: reserved for it, until their deadline (plus a grace for the frame). */
  offers(agentId: string | null | undefined, now = Date.now(), graceMs = 2000): Task[] {
    if (!agentId) return [];
    return this.all()
      .filter((t) => t.state === "reserved" && t.agent_id === agentId)
      .filter((t) => !t.deadline || Date.parse(t.deadline) + graceMs > now)
      .sort((a, b) => (a.deadline ?? "").localeCompare(b.deadline ?? "") || a.id.localeCompare(b.id));
  }

  /** This agent's tasks in wrap-up, oldest first. */
  wrapUps(agentId: string | null | undefined): Task[] {
    if (!agentId) return [];
    return this.all()
      .filter((t) => t.state === "wrap_up" && t.agent_id === agentId)
      .sort((a, b) => (a.assigned_at ?? a.created_at).localeCompare(b.assigned_at ?? b.created_at));
  }

  /** Tasks waiting for an agent (queued or offered), longest waiting first. */
  waiting(): Task[] {
    return this.all()
      .filter((t) => t.state === "queued" || t.state === "reserved")
      .sort((a, b) => (a.queued_at ?? a.created_at).localeCompare(b.queued_at ?? b.created_at));
  }

  /** Forgets ended tasks after a while (kept meanwhile so that a late frame changes nothing). */
  prune(now = Date.now()): void {
    for (const [id, task] of [...this.tasks]) {
      if (isLive(task)) continue;
      const ended = Date.parse(task.ended_at ?? task.created_at);
      if (now - ended > KEEP_ENDED_MS) {
        this.tasks.delete(id);
        this.stamps.delete(id);
      }
    }
    // Removed by reconcile: their frames would have come long ago.
    if (this.removed.size > 10_000) this.removed.clear();
  }

  private take(task: Task, command: TaskChange["command"]): boolean {
    const previous = this.tasks.get(task.id);
    const known = previous?.version ?? this.removed.get(task.id);
    if (known !== undefined && task.version <= known) return false;
    this.removed.delete(task.id);
    this.tasks.set(task.id, task);
    this.stamps.set(task.id, ++this.stamp);
    this.dispatchEvent(new CustomEvent<TaskChange>("task", { detail: { task, previous, command } }));
    return true;
  }
}

// Typed listeners: `store.addEventListener("task", (e) => e.detail.task)`.
export interface TaskStore {
  addEventListener<K extends keyof TaskStoreEventMap>(
    type: K,
    listener: (event: TaskStoreEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof TaskStoreEventMap>(
    type: K,
    listener: (event: TaskStoreEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
}
