import { LitElement, html, nothing } from "lit";
import { repeat } from "lit/directives/repeat.js";
import { Api, ApiError, errorText } from "../../shared/api.js";
import { languageName, pageLang, strings, type Strings } from "../../shared/i18n.js";
import { RealtimeClient, websocketUrl, type ConnectionState } from "../../shared/realtime.js";
import { TaskStore } from "../../shared/task-store.js";
import type { AgentInfo, FrameHandlers, Queue, Task, Wallboard } from "../../shared/types.js";
import "../../desk/login-form/login-form.js";
import { duration, percent, timeOfDay } from "./figures.js";
import { queueTile } from "./queue-tile.js";
import { styles } from "./wallboard.styles.js";

interface Login {
  agent: AgentInfo;
  csrf_token: string;
}

/** Figures are fetched again on a task or presence frame, at most this often … */
const DEBOUNCE_MS = 1000;
/** … and at least this often (what frames do not tell: the figures of the day, lost frames). */
const POLL_MS = 10_000;
const WAITING_STATES = ["queued", "reserved"] as const;

/**
 * The supervisors' wallboard (/supervisor): per queue, what waits now and how the day goes;
 * the agents, whose presence a supervisor may change; the tasks waiting, which a supervisor
 * may move to another queue. Live: task and presence frames on the WebSocket, shared with the
 * desk (realtime.ts), fetch the figures again (at most once a second), and a poll every 10 s.
 *
 * The WebSocket is the bare RealtimeClient, not the chat store: a supervisor's connection also
 * carries every conversation's frames, which the wallboard neither keeps nor catches up on.
 */
export class RelaisWallboard extends LitElement {
  static override styles = styles;
  static override properties = {
    agent: { state: true },
    checked: { state: true },
    error: { state: true },
    board: { state: true },
    queues: { state: true },
    connection: { state: true },
    now: { state: true },
    pending: { state: true },
  };

  agent: AgentInfo | null = null;
  checked = false;
  error: string | null = null;
  board: Wallboard | null = null;
  queues: Queue[] = [];
  connection: ConnectionState = "offline";
  now = Date.now();
  /** Agents and tasks with a change on its way (their controls wait for the answer). */
  pending = new Set<string>();
  /** For tests: how often the figures are polled. */
  pollMs = POLL_MS;

  readonly tasks = new TaskStore();
  private readonly uiLang = pageLang();
  private readonly strings: Strings = strings(this.uiLang);
  private csrf: string | null = null;
  private readonly api = new Api({ base: "", csrf: () => cookie("relais_csrf") ?? this.csrf });
  private realtime: RealtimeClient | null = null;
  private wasOpen = false;
  /** When the figures on screen were fetched (this clock), and this clock minus the server's. */
  private boardAt = 0;
  private skewMs = 0;
  private lastFetch = 0;
  private fetching = false;
  private again = false;
  private soon: number | undefined;
  private poll: number | undefined;
  private ticker: number | undefined;

  constructor() {
    super();
    this.tasks.addEventListener("change", () => this.requestUpdate());
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.ticker = window.setInterval(() => (this.now = Date.now()), 1000);
    void this.resume();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.clearInterval(this.ticker);
    this.stop();
  }

  private async resume(): Promise<void> {
    try {
      const me = await this.api.get<Login | AgentInfo>("/api/v1/auth/me");
      this.signedIn("agent" in me ? me : { agent: me, csrf_token: "" });
    } catch (error) {
      this.agent = null;
      if (!(error instanceof ApiError && error.status === 401)) this.error = errorText(error);
    }
    this.checked = true;
  }

  private signedIn(login: Login): void {
    this.agent = login.agent;
    this.csrf = login.csrf_token;
    this.error = null;
    if (login.agent.role !== "agent") this.start();
  }

  private signedOut(): void {
    this.stop();
    this.agent = null;
    this.board = null;
  }

  private start(): void {
    const handlers: FrameHandlers = {
      ready: () => {
        // After a reconnection: whatever was missed meanwhile.
        if (this.wasOpen) void this.refresh();
        this.wasOpen = true;
      },
      task: (f) => {
        this.tasks.applyFrame(f);
        this.refreshSoon();
      },
      presence: () => this.refreshSoon(),
      sla: () => this.refreshSoon(),
      error: (f) => (this.error = f.message),
    };
    this.realtime = new RealtimeClient({
      url: websocketUrl(this.api.base),
      hello: () => ({}),
      // No conversation is followed here: nothing to replay.
      cursors: () => ({}),
      handlers,
      onState: (state) => (this.connection = state),
      onReady: () => undefined,
      onError: (message) => (this.error = message),
      onUnauthorized: () => this.signedOut(),
    });
    this.realtime.connect();
    void this.refresh();
    this.poll = window.setInterval(() => void this.refresh(), this.pollMs);
  }

  private stop(): void {
    this.realtime?.close();
    this.realtime = null;
    this.wasOpen = false;
    window.clearInterval(this.poll);
    window.clearTimeout(this.soon);
    this.soon = undefined;
  }

  /** Everything again: the figures, the waiting tasks, the queues. */
  private async refresh(): Promise<void> {
    await Promise.all([this.loadBoard(), this.loadTasks(), this.loadQueues()]);
  }

  /** The figures again, at most once a second however many frames come. */
  private refreshSoon(): void {
    if (this.soon !== undefined) return;
    const wait = Math.max(0, this.lastFetch + DEBOUNCE_MS - Date.now());
    this.soon = window.setTimeout(() => {
      this.soon = undefined;
      void this.loadBoard();
    }, wait);
  }

  private async loadBoard(): Promise<void> {
    if (this.fetching) {
      // One at a time; the one in flight may have been answered before the latest change.
      this.again = true;
      return;
    }
    this.fetching = true;
    this.lastFetch = Date.now();
    try {
      const board = await this.api.get<Wallboard>("/api/v1/wallboard");
      this.boardAt = Date.now();
      const skew = this.boardAt - Date.parse(board.generated_at);
      this.skewMs = Number.isFinite(skew) ? skew : 0;
      this.board = board;
    } catch (error) {
      this.fail(error);
    } finally {
      this.fetching = false;
    }
    if (this.again) {
      this.again = false;
      this.refreshSoon();
    }
  }

  private async loadTasks(): Promise<void> {
    const since = this.tasks.mark();
    try {
      const list = await this.api.get<Task[]>(`/api/v1/tasks?${WAITING_STATES.map((s) => `state=${s}`).join("&")}&limit=500`);
      this.tasks.reconcile(list, WAITING_STATES, since);
      this.tasks.prune();
    } catch (error) {
      this.fail(error);
    }
  }

  private async loadQueues(): Promise<void> {
    try {
      this.queues = await this.api.get<Queue[]>("/api/v1/queues");
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    console.error("relais:", error);
    if (error instanceof ApiError && error.status === 401) this.signedOut();
    else this.error = errorText(error);
  }

  private async setPresence(agentId: string, presence: string): Promise<void> {
    await this.change(agentId, () => this.api.put(`/api/v1/agents/${encodeURIComponent(agentId)}/presence`, { presence }));
    this.refreshSoon();
  }

  private async transfer(task: Task, queueId: string): Promise<void> {
    await this.change(task.id, async () => {
      const answer = await this.api.post<Task>(`/api/v1/tasks/${encodeURIComponent(task.id)}/transfer`, { queue_id: queueId });
      this.tasks.set(answer);
    });
    this.refreshSoon();
  }

  private async change(key: string, call: () => Promise<unknown>): Promise<void> {
    this.pending = new Set(this.pending).add(key);
    try {
      await call();
    } catch (error) {
      this.fail(error);
    } finally {
      const left = new Set(this.pending);
      left.delete(key);
      this.pending = left;
    }
  }

  private async logout(): Promise<void> {
    try {
      await this.api.post("/api/v1/auth/logout");
    } catch (error) {
      console.warn("relais: logout", error);
    }
    this.signedOut();
  }

  override render() {
    const s = this.strings;
    if (!this.checked) return nothing;
    if (!this.agent) {
      return html`<relais-login-form .strings=${{ ...s, deskTitle: s.wallboardTitle }} .error=${this.error}
        @relais-login=${(e: CustomEvent<Login>) => this.signedIn(e.detail)}></relais-login-form>`;
    }
    if (this.agent.role === "agent") {
      return html`<main class="denied">
        <h1>${s.wallboardTitle}</h1>
        <p role="alert" data-testid="supervisors-only">${s.supervisorsOnly}</p>
        <button type="button" @click=${this.logout}>${s.logout}</button>
      </main>`;
    }
    return html`
      <header>
        <h1>${s.wallboardTitle}</h1>
        ${this.board ? html`<span class="updated" data-testid="updated">${s.updatedAt(timeOfDay(this.boardAt, this.uiLang))}</span>` : nothing}
        <span>${this.agent.name}</span>
        <button type="button" @click=${this.logout}>${s.logout}</button>
      </header>
      ${this.connection !== "open" && this.wasOpen ? html`<div class="status" role="status">${s.reconnecting}</div>` : nothing}
      ${this.error
        ? html`<div class="status error" role="alert"><span>${this.error}</span>
            <button type="button" @click=${() => (this.error = null)}>${s.dismiss}</button></div>`
        : nothing}
      <main>
        <div class="queues">
          ${this.board && !this.board.queues.length ? html`<p class="muted">${s.noQueues}</p>` : nothing}
          ${this.board && this.board.queues.length > 1
            ? queueTile(this.board.all_queues, this.longestWait(this.board.all_queues.longest_wait_s), s, this.uiLang)
            : nothing}
          ${repeat(this.board?.queues ?? [], (q) => q.id, (q) => queueTile(q, this.longestWait(q.longest_wait_s), s, this.uiLang))}
        </div>
        <div class="lower">
          ${this.renderAgents()}
          ${this.renderTasks()}
        </div>
      </main>
    `;
  }

  /** The server's figure, ticked on by this clock since it was fetched. */
  private longestWait(seconds: number | null): number | null {
    return seconds === null ? null : seconds + Math.max(0, this.now - this.boardAt) / 1000;
  }

  private renderAgents() {
    const s = this.strings;
    const agents = [...(this.board?.agents ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    const presenceName = { available: s.available, away: s.away, offline: s.offline };
    return html`<section class="panel" aria-labelledby="agents-title">
      <h2 id="agents-title">${s.agentsTitle}</h2>
      <table data-testid="agents-table">
        <thead><tr><th scope="col">${s.agentName}</th><th scope="col">${s.presence}</th>
          <th scope="col" class="num">${s.tasks}</th><th scope="col" class="num">${s.occupancy}</th></tr></thead>
        <tbody>${repeat(agents, (a) => a.id, (a) => html`<tr data-agent-id=${a.id}>
          <th scope="row">${a.name}</th>
          <td><span class="dot ${a.presence}"></span>
            <select aria-label=${s.presenceOf(a.name)} data-testid="agent-presence" ?disabled=${this.pending.has(a.id)}
              .value=${a.presence} @change=${(e: Event) => void this.setPresence(a.id, (e.target as HTMLSelectElement).value)}>
              <option value="available" ?selected=${a.presence === "available"}>${presenceName.available}</option>
              <option value="away" ?selected=${a.presence === "away"}>${presenceName.away}</option>
              <option value="offline" disabled ?selected=${a.presence === "offline"}>${presenceName.offline}</option>
            </select>
            ${a.reason ? html`<span class="muted">${a.reason}</span>` : nothing}</td>
          <td class="num">${a.tasks}</td>
          <td class="num">${percent(a.occupancy)}</td>
        </tr>`)}</tbody>
      </table>
    </section>`;
  }

  private renderTasks() {
    const s = this.strings;
    const waiting = this.tasks.waiting();
    const queueName = new Map<string, string>();
    for (const q of this.board?.queues ?? []) if (q.id !== null) queueName.set(q.id, q.name);
    for (const q of this.queues) queueName.set(q.id, q.name);
    const agentName = new Map((this.board?.agents ?? []).map((a) => [a.id, a.name]));
    const serverNow = this.now - this.skewMs;
    return html`<section class="panel" aria-labelledby="tasks-title">
      <h2 id="tasks-title">${s.waitingTasks} <span class="count">${waiting.length}</span></h2>
      ${waiting.length
        ? html`<table data-testid="waiting-tasks">
          <thead><tr><th scope="col">${s.channel}</th><th scope="col">${s.queue}</th><th scope="col" class="num">${s.waitingFor}</th>
            <th scope="col">${s.details}</th><th scope="col">${s.state}</th><th scope="col">${s.moveToQueue}</th></tr></thead>
          <tbody>${repeat(waiting, (t) => t.id, (t) => {
            const language = typeof t.attributes.language === "string" ? languageName(t.attributes.language, this.uiLang) : null;
            const label = [s.channelName[t.channel] ?? t.channel, language].filter(Boolean).join(" · ");
            const since = Date.parse(t.queued_at ?? t.created_at);
            const targets = this.queues.filter((q) => q.id !== t.queue_id && (!q.channels.length || q.channels.includes(t.channel)));
            return html`<tr data-task-id=${t.id}>
              <th scope="row">${label}</th>
              <td>${queueName.get(t.queue_id) ?? t.queue_id}</td>
              <td class="num">${duration((serverNow - since) / 1000)}</td>
              <td class="details">${details(t)}</td>
              <td>${t.state === "reserved" ? s.offeredTo(agentName.get(t.agent_id ?? "") ?? t.agent_id ?? "") : s.queuedState}</td>
              <td><select aria-label=${s.moveTaskTo(label)} data-testid="move-task" ?disabled=${this.pending.has(t.id) || !targets.length}
                  @change=${(e: Event) => {
                    const select = e.target as HTMLSelectElement;
                    const queueId = select.value;
                    select.value = "";
                    if (queueId) void this.transfer(t, queueId);
                  }}>
                <option value="" selected>—</option>
                ${targets.map((q) => html`<option value=${q.id}>${q.name}</option>`)}
              </select></td>
            </tr>`;
          })}</tbody>
        </table>`
        : html`<p class="muted">${s.noWaitingTasks}</p>`}
    </section>`;
  }
}

/** What the task says of the request: its reason, page or phone number. */
function details(t: Task): string {
  const a = t.attributes;
  return [a.reason, a.page_title || a.page_url, a.phone].filter((v) => typeof v === "string" && v).join(" · ");
}

function cookie(name: string): string | null {
  const found = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : null;
}

customElements.define("relais-wallboard", RelaisWallboard);

declare global {
  interface HTMLElementTagNameMap {
    "relais-wallboard": RelaisWallboard;
  }
}
