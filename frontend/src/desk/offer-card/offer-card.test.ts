// The offer card alone (fixtures for REST), then in the desk (fixtures for the WebSocket too).
import { Api } from "../../shared/api.js";
import { strings } from "../../shared/i18n.js";
import { FakeSocket, deepQuery, deepQueryAll, equal, mount, ok, onCleanup, stubFetch, test, waitFor, type FetchCall } from "../../shared/testing.js";
import type { Context, Conversation, ScreenPop, Task } from "../../shared/types.js";
import "../desk/desk.js";
import type { TaskDetail, TaskIdDetail } from "./offer-card.js";
import "./offer-card.js";

const s = strings("en");
const inSeconds = (n: number) => new Date(Date.now() + n * 1000).toISOString();

function task(overrides: Partial<Task> = {}): Task {
  return {
    id: "t1", channel: "chat", queue_id: "q1", state: "reserved", version: 2, priority: 0,
    requirements: { "lang:fr": 1 },
    attributes: { language: "fr", page_url: "https://shop.example/cart", page_title: "Cart", reason: "delivery" },
    conversation_id: "c1", contact_id: "k1", visitor_id: "v1", agent_id: "a1", attempts: 0,
    created_at: inSeconds(-65), queued_at: inSeconds(-65), not_before: null, deadline: inSeconds(20),
    assigned_at: null, wrap_up_until: null, ended_at: null, end_reason: null, ...overrides,
  };
}

function conversation(overrides: Partial<Conversation> = {}): Conversation {
  return {
    id: "c1", status: "open", channel: "chat", subject: null, visitor_id: "v1", contact_id: "k1",
    contact_name: "Claire Martin", team_id: "team", assignee_id: "a1", assignee_name: "Alice", last_seq: 0,
    visitor_read_seq: 0, agent_read_seq: 0, rating: null, created_at: inSeconds(-65), updated_at: inSeconds(-1),
    ...overrides,
  };
}

const context: Context = {
  contact: { id: "k1", name: "Claire Martin", emails: ["claire@example.com"], phones: [], external_id: "shop-claire", attributes: {} },
  visitor: { id: "v1", claimed_name: null, claimed_email: null, lang: "fr", user_agent: null },
  reply_to_email: null,
  past_conversations: [
    conversation({ id: "old-chat", status: "resolved", created_at: "2025-12-01T10:00:00Z", rating: 5 }),
    conversation({ id: "old-mail", channel: "email", status: "resolved", created_at: "2025-11-02T10:00:00Z", assignee_name: "Bruno" }),
  ],
  current_page: { url: "https://shop.example/checkout", title: "Checkout", started_at: inSeconds(-30), seconds: null },
  pages: [{ url: "https://shop.example/checkout", title: "Checkout", started_at: inSeconds(-30), seconds: null }],
};

function pop(t: Task): ScreenPop {
  return { task: t, context, waited_s: 65, crm_url: null, crm_open_on_accept: false };
}

function card(t: Task, expanded = true) {
  const el = document.createElement("relais-offer-card");
  el.task = t;
  el.api = new Api({ base: "", csrf: () => "csrf-1" });
  el.strings = s;
  el.uiLang = "en";
  el.expanded = expanded;
  return mount(el);
}

function events<T>(el: HTMLElement, name: string): T[] {
  const seen: T[] = [];
  el.addEventListener(name, (e) => seen.push((e as CustomEvent<T>).detail));
  return seen;
}

function text(selector: string, root?: ParentNode): string {
  return deepQuery(selector, root)?.textContent?.replace(/\s+/g, " ").trim() ?? "";
}

function key(target: Element, name: string): void {
  target.dispatchEvent(new KeyboardEvent("keydown", { key: name, bubbles: true, composed: true, cancelable: true }));
}

const posts = (calls: FetchCall[]) => calls.filter((c) => c.method === "POST").map((c) => c.path);

test("an offer shows channel, language, customer, wait, page and countdown, with the screen pop before accepting", async () => {
  stubFetch({ "GET /api/v1/tasks/t1/screen-pop": () => ({ body: pop(task()) }) });
  const el = card(task());
  await waitFor(() => text("[data-testid=offer-who]", el.shadowRoot!) === "Claire Martin", "the customer's name");
  equal(text(".title", el.shadowRoot!), "New chat — French");
  ok(deepQuery("svg[aria-label=Chat]", el.shadowRoot!), "the channel icon has a name");
  ok(/^· waiting for 1:0[5-7]$/.test(text("[data-testid=offer-waited]", el.shadowRoot!)), text("[data-testid=offer-waited]", el.shadowRoot!));
  ok(/^0:(19|20) left$/.test(text("[data-testid=offer-countdown]", el.shadowRoot!)), text("[data-testid=offer-countdown]", el.shadowRoot!));
  equal(text("[data-testid=offer-page]", el.shadowRoot!), "Checkout");
  // The screen pop: the request's attributes, then the contact panel's record, page and history.
  const details = deepQuery<HTMLDetailsElement>("[data-testid=screen-pop]", el.shadowRoot!)!;
  ok(details.open, "the first offer's screen pop is open");
  const attributes = text("[data-testid=offer-attributes]", el.shadowRoot!);
  ok(attributes.includes("Language French") && attributes.includes("Reason delivery"), attributes);
  const panel = await waitFor(() => deepQuery("[data-testid=contact-panel]", el.shadowRoot!), "the contact panel");
  ok(panel.textContent!.includes("claire@example.com"), "the contact's record");
  equal(deepQueryAll("li", panel).length, 3, "one page and two past conversations");
  await waitFor(() => text("[data-testid=offer-announce]", el.shadowRoot!) === "New chat offered", "the announcement");
  equal(deepQuery("[data-testid=offer-announce]", el.shadowRoot!)!.getAttribute("aria-live"), "assertive");
});

test("a closed screen pop holds no contact panel until it is opened", async () => {
  stubFetch({ "GET /api/v1/tasks/t1/screen-pop": () => ({ body: pop(task()) }) });
  const el = card(task(), false);
  await waitFor(() => text("[data-testid=offer-who]", el.shadowRoot!) === "Claire Martin", "the screen pop");
  equal(deepQuery("[data-testid=contact-panel]", el.shadowRoot!), null);
  deepQuery("summary", el.shadowRoot!)!.click();
  await waitFor(() => deepQuery("[data-testid=contact-panel]", el.shadowRoot!), "the panel once opened");
});

test("Enter on the focused card accepts, with the CSRF token", async () => {
  const accepted = task({ state: "assigned", version: 3, deadline: null, assigned_at: inSeconds(0) });
  const calls = stubFetch({
    "GET /api/v1/tasks/t1/screen-pop": () => ({ body: pop(task()) }),
    "POST /api/v1/tasks/t1/accept": () => ({ body: accepted }),
  });
  const el = card(task());
  const seen = events<TaskDetail>(el, "relais-offer-accepted");
  const box = await waitFor(() => deepQuery<HTMLElement>("[data-testid=offer-card]", el.shadowRoot!), "the card");
  // Escape outside the card does nothing.
  key(document.body, "Escape");
  box.focus();
  key(box, "Enter");
  await waitFor(() => seen.length === 1, "the accepted event");
  equal(seen[0].task.state, "assigned");
  equal(posts(calls), ["/api/v1/tasks/t1/accept"]);
  equal(calls.find((c) => c.method === "POST")!.headers["x-csrf-token"], "csrf-1");
});

test("Escape in the card rejects; Enter on its Reject button rejects too, never accepts", async () => {
  const rejected = task({ state: "queued", agent_id: null, version: 3, deadline: null });
  const calls = stubFetch({
    "GET /api/v1/tasks/t1/screen-pop": () => ({ body: pop(task()) }),
    "POST /api/v1/tasks/t1/reject": () => ({ body: rejected }),
  });
  const el = card(task());
  const seen = events<TaskDetail>(el, "relais-offer-rejected");
  const reject = await waitFor(() => deepQuery<HTMLButtonElement>("[data-testid=offer-reject]", el.shadowRoot!), "the button");
  reject.focus();
  key(reject, "Escape");
  await waitFor(() => seen.length === 1, "the rejected event");
  key(reject, "Enter"); // the button's own Enter: a click, not an accept
  reject.click();
  await waitFor(() => seen.length === 2, "the second rejection");
  equal(posts(calls), ["/api/v1/tasks/t1/reject", "/api/v1/tasks/t1/reject"]);
});

test("an offer the server says is gone is given up with the reason", async () => {
  stubFetch({
    "GET /api/v1/tasks/t1/screen-pop": () => ({ body: pop(task()) }),
    "POST /api/v1/tasks/t1/accept": () => ({ status: 409, body: { error: { code: "offer_gone", message: "The offer lapsed." } } }),
  });
  const el = card(task());
  const gone = events<TaskIdDetail>(el, "relais-offer-gone");
  (await waitFor(() => deepQuery<HTMLButtonElement>("[data-testid=offer-accept]", el.shadowRoot!), "accept")).click();
  await waitFor(() => gone.length === 1, "the gone event");
  equal(gone[0].taskId, "t1");
  equal(text("[data-testid=offer-error]", el.shadowRoot!), "This offer is no longer available.");
  ok(deepQuery<HTMLButtonElement>("[data-testid=offer-accept]", el.shadowRoot!)!.disabled, "accept still enabled");
});

test("a failed screen pop does not keep the agent from answering", async () => {
  stubFetch({ "GET /api/v1/tasks/t1/screen-pop": () => ({ status: 500, body: { error: { code: "boom", message: "Server error" } } }) });
  const el = card(task());
  await waitFor(() => text("[data-testid=screen-pop] [role=alert]", el.shadowRoot!) === "Server error", "the error");
  equal(text("[data-testid=offer-who]", el.shadowRoot!), "Visitor");
  equal(text("[data-testid=offer-page]", el.shadowRoot!), "Cart", "the page from the task's attributes");
  ok(!deepQuery<HTMLButtonElement>("[data-testid=offer-accept]", el.shadowRoot!)!.disabled);
});

test("past its deadline an offer shows it lapsed, then is given up", async () => {
  stubFetch({ "GET /api/v1/tasks/t1/screen-pop": () => ({ body: { ...pop(task()), waited_s: null } }) });
  const el = card(task({ deadline: inSeconds(-1.5) }));
  const gone = events<TaskIdDetail>(el, "relais-offer-gone");
  await waitFor(() => text("[data-testid=offer-countdown]", el.shadowRoot!) === "Offer lapsed", "lapsed");
  ok(deepQuery<HTMLButtonElement>("[data-testid=offer-accept]", el.shadowRoot!)!.disabled);
  await waitFor(() => gone.length === 1, "the gone event after the grace");
});

test("the wrap-up bar counts down and Done ends the wrap-up", async () => {
  const ended = task({ state: "completed", version: 6, ended_at: inSeconds(0) });
  const calls = stubFetch({ "POST /api/v1/tasks/t1/end-wrap-up": () => ({ body: ended }) });
  const el = card(task({ state: "wrap_up", version: 5, deadline: null, wrap_up_until: inSeconds(25) }));
  const seen = events<TaskDetail>(el, "relais-wrap-up-ended");
  await waitFor(() => /^Wrap-up — 0:2[45] left Done$/.test(text("[data-testid=wrap-up-bar]", el.shadowRoot!)), "the bar");
  deepQuery<HTMLButtonElement>("[data-testid=wrap-up-done]", el.shadowRoot!)!.click();
  await waitFor(() => seen.length === 1, "the ended event");
  equal(posts(calls), ["/api/v1/tasks/t1/end-wrap-up"]);
});

test("the desk stacks offers above its list and opens the accepted conversation when its frame comes", async () => {
  FakeSocket.install();
  const me = { id: "a1", email: "alice@relais.example", name: "Alice", role: "agent", presence: "available", presence_reason: null, team_ids: [] };
  const t2 = task({ id: "t2", conversation_id: "c2", deadline: inSeconds(25), attributes: { language: "en" } });
  const calls = stubFetch({
    "GET /api/v1/auth/me": () => ({ body: { agent: me, csrf_token: "csrf-1" } }),
    "GET /api/v1/conversations": () => ({ body: [] }),
    "GET /api/v1/tasks": () => ({ body: [] }),
    "GET /api/v1/tasks/t1/screen-pop": () => ({ body: pop(task()) }),
    "GET /api/v1/tasks/t2/screen-pop": () => ({ body: { ...pop(t2), context: { ...context, contact: null } } }),
    "POST /api/v1/tasks/t1/accept": () => ({ body: task({ state: "assigned", version: 3 }) }),
    "GET /api/v1/conversations/c1/messages": () => ({ body: [] }),
    "GET /api/v1/conversations/c1/context": () => ({ body: context }),
  });
  const desk = mount(document.createElement("relais-desk"));
  await waitFor(() => FakeSocket.instances.length === 1 && FakeSocket.last().sent.length === 1, "the hello");
  const socket = FakeSocket.last();
  socket.ready({ kind: "agent", id: "a1", name: "Alice" });
  await waitFor(() => calls.some((c) => c.path.startsWith("/api/v1/tasks?state=reserved")), "the tasks' sync");
  socket.serve({ type: "task", command: "reserve", task: t2 });
  socket.serve({ type: "task", command: "reserve", task: task() });

  const cards = await waitFor(() => {
    const found = deepQueryAll("[data-testid=offer-card]", desk.shadowRoot!);
    return found.length === 2 && found;
  }, "two offers");
  equal(cards.map((c) => c.dataset.taskId), ["t1", "t2"], "the soonest deadline first");
  const nav = deepQuery("nav", desk.shadowRoot!)!;
  ok(nav.firstElementChild?.classList.contains("offers"), "the offers are at the top of the list");
  ok(deepQuery<HTMLDetailsElement>("[data-testid=screen-pop]", cards[0].getRootNode() as ShadowRoot)!.open, "first open");

  deepQuery<HTMLButtonElement>("[data-testid=offer-accept]", cards[0].getRootNode() as ShadowRoot)!.click();
  await waitFor(() => posts(calls).includes("/api/v1/tasks/t1/accept"), "the accept");
  socket.serve({ type: "task", command: "accept", task: task({ state: "assigned", version: 3 }) });
  socket.serve({ type: "conversation", reason: "assigned", conversation: conversation() });
  const item = await waitFor(() => deepQuery("[data-testid=conversation-item][data-conversation-id=c1]", desk.shadowRoot!), "c1 listed");
  await waitFor(() => item.getAttribute("aria-current") === "true", "c1 selected");
  equal(deepQueryAll("[data-testid=offer-card]", desk.shadowRoot!).map((c) => c.dataset.taskId), ["t2"]);

  // The second offer lapses: its card goes, and the ACD sets the agent away.
  socket.serve({ type: "task", command: "expire", task: { ...t2, state: "queued", agent_id: null, version: 3, deadline: null } });
  await waitFor(() => deepQueryAll("[data-testid=offer-card]", desk.shadowRoot!).length === 0, "no offer left");
  socket.serve({ type: "presence", agent_id: "a1", presence: "away" });
  await waitFor(() => text("[data-testid=notice]", desk.shadowRoot!) === s.awayAfterMissed, "the notice");
  equal(deepQuery<HTMLSelectElement>("[data-testid=presence]", desk.shadowRoot!)!.value, "away");

  socket.serve({ type: "task", command: "complete", task: task({ state: "wrap_up", version: 4, wrap_up_until: inSeconds(30) }) });
  await waitFor(() => deepQuery("[data-testid=wrap-up-bar]", desk.shadowRoot!), "the wrap-up bar");
});

test("an offer that lapsed without a word leaves the desk; the same task offered again comes back", async () => {
  FakeSocket.install();
  const me = { id: "a1", email: "alice@relais.example", name: "Alice", role: "agent", presence: "available", presence_reason: null, team_ids: [] };
  stubFetch({
    "GET /api/v1/auth/me": () => ({ body: { agent: me, csrf_token: "csrf-1" } }),
    "GET /api/v1/conversations": () => ({ body: [] }),
    "GET /api/v1/tasks": () => ({ body: [] }),
    "GET /api/v1/tasks/t1/screen-pop": () => ({ body: { ...pop(task()), waited_s: null } }),
  });
  const desk = mount(document.createElement("relais-desk"));
  await waitFor(() => FakeSocket.instances.length === 1 && FakeSocket.last().sent.length === 1, "the hello");
  const socket = FakeSocket.last();
  socket.ready({ kind: "agent", id: "a1", name: "Alice" });
  socket.serve({ type: "task", command: "reserve", task: task({ deadline: inSeconds(-1.8) }) });
  await waitFor(() => deepQuery("[data-testid=offer-card]", desk.shadowRoot!), "the offer");
  await waitFor(() => !deepQuery("[data-testid=offer-card]", desk.shadowRoot!), "the offer gone", 6000);
  socket.serve({ type: "task", command: "reserve", task: task({ version: 4, deadline: inSeconds(20) }) });
  await waitFor(() => deepQuery("[data-testid=offer-card]", desk.shadowRoot!), "offered again");
});

test("the CRM link shows when the server gives one, and opens on accept when configured", async () => {
  const url = "https://crm.example.com/contacts/cust%2F42?task=t1";
  const accepted = task({ state: "assigned", version: 3, deadline: null, assigned_at: inSeconds(0) });
  stubFetch({
    "GET /api/v1/tasks/t1/screen-pop": () => ({ body: { ...pop(task()), crm_url: url, crm_open_on_accept: true } }),
    "POST /api/v1/tasks/t1/accept": () => ({ body: accepted }),
  });
  const opened: unknown[][] = [];
  const open = window.open;
  window.open = ((...args: unknown[]) => {
    opened.push(args);
    return null;
  }) as typeof window.open;
  onCleanup(() => (window.open = open));
  const el = card(task());
  const link = await waitFor(() => deepQuery<HTMLAnchorElement>("[data-testid=offer-crm]", el.shadowRoot!), "the link");
  equal([link.href, link.target, link.rel, text("[data-testid=offer-crm]", el.shadowRoot!)], [url, "_blank", "noopener noreferrer", "Open in CRM"]);
  deepQuery<HTMLButtonElement>("[data-testid=offer-accept]", el.shadowRoot!)!.click();
  await waitFor(() => opened.length === 1, "the CRM page opened");
  equal(opened[0], [url, "_blank", "noopener,noreferrer"]);
});

test("no CRM link for a task without the value", async () => {
  stubFetch({ "GET /api/v1/tasks/t1/screen-pop": () => ({ body: pop(task()) }) });
  const el = card(task());
  await waitFor(() => text("[data-testid=offer-who]", el.shadowRoot!) === "Claire Martin", "the screen pop");
  equal(deepQuery("[data-testid=offer-crm]", el.shadowRoot!), null);
});
