// The mail view alone, then an e-mail conversation in the whole desk (REST and the WebSocket
// answered in the page).
import { Api } from "../../shared/api.js";
import { strings } from "../../shared/i18n.js";
import { FakeSocket, deepQuery, deepQueryAll, equal, mount, ok, onCleanup, stubFetch, test, waitFor } from "../../shared/testing.js";
import type { Conversation, Envelope, MailThread, Message, ShownMessage, Suggestion } from "../../shared/types.js";
import "../desk/desk.js";
import { MailThreads } from "./mail-threads.js";
import "./mail-view.js";

const en = strings("en");
const fr = strings("fr");
const XSS = `<img src=x onerror="window.__xss=1">`;
const QUOTED = `<p>Bonjour, mon colis n'est pas arrivé.</p><details class="relais-quoted"><summary>Messages précédents</summary><blockquote><p>Le 2 mars, Maison Relais a écrit : votre colis part demain.</p></blockquote></details>`;

function message(seq: number, overrides: Partial<ShownMessage> = {}): ShownMessage {
  return {
    id: `m${seq}`, conversation_id: "c1", seq, client_id: null, author_kind: "visitor", author_id: null,
    author_name: "Claire Martin", body: "Bonjour", html: "<p>Bonjour</p>", attachments: [],
    created_at: "2026-03-03T09:15:00Z", state: "sent", ...overrides,
  };
}

function envelope(seq: number, overrides: Partial<Envelope> = {}): Envelope {
  return {
    message_id: `m${seq}`, seq, direction: "in", from_name: "Claire Martin", from_address: "claire@client.example",
    to: ["support@relais.example"], cc: [], subject: "Colis 1042", date: "2026-03-03T09:14:00Z", state: "received",
    error: null, ...overrides,
  };
}

function thread(envelopes: Envelope[]): MailThread {
  return {
    conversation_id: "c1", number: 42, reference: "[#42]", subject: "Colis 1042", reply_subject: "Re: [#42] Colis 1042",
    reply_to_name: "Claire Martin", reply_to: "claire@client.example", mailbox_address: "support@relais.example", envelopes,
  };
}

function view(messages: ShownMessage[], t: MailThread | null, lang: "en" | "fr" = "en") {
  const el = document.createElement("relais-mail-view");
  el.messages = messages;
  el.thread = t;
  el.subject = "Colis 1042";
  el.strings = lang === "fr" ? fr : en;
  el.uiLang = lang;
  return mount(el);
}

const text = (el: Element | null | undefined) => el?.textContent?.replace(/\s+/g, " ").trim() ?? "";

test("a mail shows its subject, [#n], from, to, cc and date, and where the answer goes", async () => {
  const el = view([message(1)], thread([envelope(1, { cc: ["paul@client.example"] })]));
  await el.updateComplete;
  const root = el.shadowRoot!;
  equal(text(deepQuery("[data-testid=mail-subject]", root)), "Colis 1042");
  equal(text(deepQuery("[data-testid=mail-reference]", root)), "[#42]");
  const mail = deepQuery("[data-testid=mail]", root)!;
  ok(text(mail.querySelector(".from")) === "Claire Martin <claire@client.example>", text(mail.querySelector(".from")));
  equal(text(mail.querySelector("[data-testid=mail-to]")), "To support@relais.example");
  equal(text(mail.querySelector("[data-testid=mail-cc]")), "Cc paul@client.example");
  equal(mail.querySelector("time")!.getAttribute("datetime"), "2026-03-03T09:14:00Z");
  ok(/2026/.test(text(mail.querySelector("time"))), "a readable date");
  equal(text(deepQuery("[data-testid=mail-reply-to]", root)), "Reply by e-mail to Claire Martin <claire@client.example>");
  equal(text(deepQuery("[data-testid=mail-reply-subject]", root)), "Re: [#42] Colis 1042");
  el.closed = true;
  await el.updateComplete;
  equal(deepQuery("[data-testid=mail-reply]", root), null, "no answer line once resolved");
});

test("the quoted history stays folded until its toggle, which says its state", async () => {
  const el = view([message(1, { html: QUOTED })], thread([envelope(1)]));
  await el.updateComplete;
  const root = el.shadowRoot!;
  const details = deepQuery<HTMLDetailsElement>("details.relais-quoted", root)!;
  const toggle = deepQuery<HTMLButtonElement>("[data-testid=toggle-quoted]", root)!;
  ok(!details.open && details.getBoundingClientRect().height === 0, "folded: nothing of it shows");
  equal([text(toggle), toggle.getAttribute("aria-expanded")], ["Show quoted text", "false"]);
  toggle.click();
  await el.updateComplete;
  ok(details.open && details.getBoundingClientRect().height > 0, "shown");
  ok(text(details).includes("votre colis part demain"), text(details));
  equal(getComputedStyle(details.querySelector("summary")!).display, "none", "one toggle, not two");
  equal([text(toggle), toggle.getAttribute("aria-expanded")], ["Hide quoted text", "true"]);
  // A later message keeps it so (the view re-renders on every frame).
  el.messages = [message(1, { html: QUOTED }), message(2, { body: "Merci", html: "<p>Merci</p>" })];
  await el.updateComplete;
  ok(details.open, "still shown after an update");
  toggle.click();
  await el.updateComplete;
  ok(!details.open, "folded again");
  equal(deepQueryAll("[data-testid=toggle-quoted]", root).length, 1, "no toggle for a mail without quotes");
});

test("only the server's html is HTML: names, addresses, subjects and unsent text stay text", async () => {
  const hostile = envelope(1, { from_name: XSS, from_address: "<b>x</b>@example.com", to: [XSS], subject: XSS });
  const t = { ...thread([hostile]), subject: XSS, reply_to_name: XSS, reply_subject: XSS };
  const el = view([
    message(1, { author_name: XSS }),
    message(2, { author_kind: "agent", author_name: "Alice", body: XSS, html: "", state: "pending", client_id: "p1", seq: Number.MAX_SAFE_INTEGER, id: "p1" }),
  ], t);
  await el.updateComplete;
  const root = el.shadowRoot!;
  equal(deepQueryAll("img", root).length, 0, "no element made of a field");
  ok(text(deepQuery("[data-testid=mail-subject]", root)).includes("<img"), "the subject as text");
  ok(text(deepQuery("[data-testid=mail-reply-to]", root)).includes("<img"), "the name as text");
  equal(text(deepQuery("[data-testid=mail-state]", root)), "Sending…");
  equal((window as { __xss?: number }).__xss, undefined);
});

test("each answer says where its mail stands, in French too, with the relay's words when refused", async () => {
  const answers = [
    message(2, { author_kind: "agent", author_name: "Alice", id: "m2" }),
    message(3, { author_kind: "agent", author_name: "Alice", id: "m3" }),
    message(4, { author_kind: "agent", author_name: "Alice", id: "m4" }),
    message(5, { author_kind: "agent", author_name: "Alice", id: "m5" }),
  ];
  const out = (seq: number, state: Envelope["state"], error: string | null = null) =>
    envelope(seq, { direction: "out", from_name: null, from_address: "support@relais.example", to: ["claire@client.example"], state, error, date: state === "queued" ? null : "2026-03-03T10:00:00Z" });
  const t = thread([envelope(1), out(2, "queued"), out(3, "sent"), out(4, "failed", "550 mailbox unavailable"), out(5, "bounced", "bounced: 5.1.1 claire@client.example")]);
  const el = view([message(1), ...answers], t, "fr");
  await el.updateComplete;
  const states = deepQueryAll("[data-testid=mail-state]", el.shadowRoot!);
  equal(states.map((e) => e.dataset.state), ["queued", "sent", "failed", "bounced"]);
  equal(text(states[0]), "En attente d’envoi");
  equal(text(states[1]), "Envoyé");
  equal(text(states[2]), "Non remis — 550 mailbox unavailable");
  equal(text(states[3]), "Revenu en erreur — bounced: 5.1.1 claire@client.example");
  equal(text(deepQuery("[data-testid=mail-reply-to]", el.shadowRoot!)), "Répondre par e-mail à Claire Martin <claire@client.example>");
  const dates = deepQueryAll("[data-testid=mail-date]", el.shadowRoot!).map((t) => t.getAttribute("datetime"));
  equal(dates[1], "2026-03-03T09:15:00Z", "a queued answer: when it was written");
  equal(dates[2], "2026-03-03T10:00:00Z", "a sent one: when the relay took it");
});

test("attachments are download links to the authorised endpoint, with their size", async () => {
  const files = [
    { id: "a1", filename: "facture-1042.pdf", content_type: "application/pdf", size: 2048, url: "/api/v1/attachments/a1" },
    { id: "a2", filename: "photo.png", content_type: "image/png", size: 1_572_864, url: "/api/v1/attachments/a2" },
  ];
  const el = view([message(1, { attachments: files })], thread([envelope(1)]));
  el.base = "http://relais.test";
  await el.updateComplete;
  const links = deepQueryAll<HTMLAnchorElement>("[data-testid=mail-attachments] a", el.shadowRoot!);
  equal(links.map((a) => [a.getAttribute("href"), a.getAttribute("download")]), [
    ["http://relais.test/api/v1/attachments/a1", "facture-1042.pdf"],
    ["http://relais.test/api/v1/attachments/a2", "photo.png"],
  ]);
  equal(deepQueryAll(".size", el.shadowRoot!).map(text), ["2 KB", "1.5 MB"]);
});

test("MailThreads reads a thread again while an answer is queued, and not after stop", async () => {
  let reads = 0;
  stubFetch({
    "GET /api/v1/conversations/c1/mail": () => {
      reads += 1;
      const state = reads >= 2 ? "sent" : "queued";
      return { body: thread([envelope(1), envelope(2, { direction: "out", state })]) };
    },
    "GET /api/v1/conversations/c2/mail": () => ({ status: 404, body: { error: { code: "no_mail_thread", message: "none" } } }),
  });
  const errors: string[] = [];
  const threads = new MailThreads(new Api({ base: "" }), (e) => errors.push(e));
  await threads.load("c1");
  equal(threads.get("c1")!.envelopes[1].state, "queued");
  await waitFor(() => threads.get("c1")!.envelopes[1].state === "sent", "the answer sent", 3000);
  await new Promise((r) => setTimeout(r, 2200));
  equal(reads, 2, "no more reads once nothing is queued");
  await threads.load("c2");
  equal([threads.get("c2"), errors], [undefined, []], "a chat has no thread, and that is no error");
});

/** Client ids come from crypto.randomUUID, which only secure contexts have (the test page's
 * made-up origin is not one; the desk is served over https or from localhost). */
function secureContextIds(): void {
  if (typeof crypto.randomUUID === "function") return;
  let n = 0;
  const fake = () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}` as ReturnType<Crypto["randomUUID"]>;
  Object.defineProperty(crypto, "randomUUID", { value: fake, configurable: true });
  onCleanup(() => delete (crypto as { randomUUID?: unknown }).randomUUID);
}

// -- the whole desk ----------------------------------------------------------------------------

const me = { id: "a1", email: "alice@relais.example", name: "Alice", role: "agent", presence: "available", presence_reason: null, team_ids: [] };

function conversation(overrides: Partial<Conversation> = {}): Conversation {
  return {
    id: "c1", status: "open", channel: "email", subject: "Colis 1042", visitor_id: null, contact_id: "k1",
    contact_name: "Claire Martin", team_id: "team", assignee_id: "a1", assignee_name: "Alice", last_seq: 1,
    visitor_read_seq: 0, agent_read_seq: 0, rating: null, created_at: "2026-03-03T09:15:00Z", updated_at: "2026-03-03T09:15:00Z",
    ...overrides,
  };
}

const chat = conversation({ id: "c2", channel: "chat", subject: null, visitor_id: "v1", contact_name: "Bob", updated_at: "2026-03-03T09:00:00Z", last_seq: 0 });
const suggestions: Suggestion[] = [
  { text: "Bonjour Claire,\nvotre colis 1042 part demain.", score: 0.82, source: "reply", uses: 4 },
  { text: "Suivre une livraison", score: 0.41, source: "article", uses: 0 },
];

test("the desk lists a mail by its subject with an e-mail icon, shows it as mail, and a suggestion fills the answer", async () => {
  FakeSocket.install();
  secureContextIds();
  const stored: Message = { ...message(1, { html: QUOTED }) };
  let answered: Envelope[] = [];
  const calls = stubFetch({
    "GET /api/v1/auth/me": () => ({ body: { agent: me, csrf_token: "csrf-1" } }),
    "GET /api/v1/conversations": () => ({ body: [conversation(), chat] }),
    "GET /api/v1/tasks": () => ({ body: [] }),
    "GET /api/v1/conversations/c1/messages": () => ({ body: [stored] }),
    "GET /api/v1/conversations/c1/context": () => ({ body: { contact: null, visitor: null, reply_to_email: null, past_conversations: [], current_page: null, pages: [] } }),
    "GET /api/v1/conversations/c1/mail": () => ({ body: thread([envelope(1), ...answered]) }),
    "GET /api/v1/conversations/c1/suggestions": () => ({ body: suggestions }),
  });
  const desk = mount(document.createElement("relais-desk"));
  await waitFor(() => FakeSocket.instances.length === 1 && FakeSocket.last().sent.length === 1, "the hello");
  const socket = FakeSocket.last();
  socket.ready({ kind: "agent", id: "a1", name: "Alice" });
  const root = () => desk.shadowRoot!;
  const item = await waitFor(() => deepQuery<HTMLButtonElement>("[data-testid=conversation-item][data-conversation-id=c1]", root()), "the mail listed");
  await waitFor(() => text(item.querySelector(".preview")).startsWith("Claire Martin · Bonjour"), "who and the text");
  equal(text(item.querySelector(".badge")), "1", "one unread mail");
  equal(item.querySelector("[data-testid=conversation-channel]")!.getAttribute("aria-label"), "E-mail");
  equal(text(item.querySelector("[data-testid=conversation-subject]")), "Colis 1042");
  const chatItem = deepQuery("[data-testid=conversation-item][data-conversation-id=c2]", root())!;
  equal(chatItem.querySelector("[data-testid=conversation-channel]")!.getAttribute("aria-label"), "Chat");

  item.click();
  const view = await waitFor(() => deepQuery("relais-mail-view", root()), "the mail view");
  await waitFor(() => text(deepQuery("[data-testid=mail-reply-subject]", view.shadowRoot!)) === "Re: [#42] Colis 1042", "the thread");
  equal(deepQuery("relais-conversation-view", root()), null, "not the chat view");
  const picks = await waitFor(() => {
    const found = deepQueryAll<HTMLButtonElement>("[data-testid=suggestion]", root());
    return found.length === 2 && found;
  }, "two suggestions");
  ok(text(picks[0]).includes("Past answer · used 4 times · 82 % match"), text(picks[0]));
  const input = deepQuery<HTMLTextAreaElement>("[data-testid=composer-input]", root())!;
  equal(input.placeholder, "Write your answer… (Ctrl+Enter sends)");
  picks[0].click();
  await waitFor(() => input.value === suggestions[0].text, "the suggestion in the answer");
  equal(socket.sent.filter((f) => f.type === "send").length, 0, "nothing sent by a pick");
  // Editable: Enter is a new line in an answer; Ctrl+Enter sends.
  input.focus();
  input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, composed: true, cancelable: true }));
  equal(socket.sent.filter((f) => f.type === "send").length, 0, "Enter alone does not send an e-mail");
  input.value += "\nCordialement, Alice";
  input.dispatchEvent(new InputEvent("input", { bubbles: true, composed: true }));
  input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", ctrlKey: true, bubbles: true, composed: true, cancelable: true }));
  const send = await waitFor(() => socket.sent.find((f) => f.type === "send"), "the send frame");
  equal([send.conversation_id, send.body], ["c1", `${suggestions[0].text}\nCordialement, Alice`]);
  ok(calls.some((c) => c.path === "/api/v1/conversations/c1/suggestions"), "asked for suggestions");

  // The answer is stored: its envelope is read again and says where its mail stands.
  const answer: Message = { ...message(2, { author_kind: "agent", author_name: "Alice", body: String(send.body), html: "<p>ok</p>", client_id: String(send.client_id) }) };
  answered = [envelope(2, { direction: "out", state: "sent" })];
  // The sending connection gets its answer in the ack only, not as a message frame too.
  socket.serve({ type: "ack", ref: send.ref, ok: true, message: answer, conversation_status: "pending" });
  await waitFor(() => text(deepQuery("[data-testid=mail-state]", view.shadowRoot!)) === "Sent", "the answer sent");
});

test("the back button (shown on phones) returns to the list; no suggestions is said so", async () => {
  FakeSocket.install();
  stubFetch({
    "GET /api/v1/auth/me": () => ({ body: { agent: me, csrf_token: "csrf-1" } }),
    "GET /api/v1/conversations": () => ({ body: [conversation()] }),
    "GET /api/v1/tasks": () => ({ body: [] }),
    "GET /api/v1/conversations/c1/messages": () => ({ body: [message(1)] }),
    "GET /api/v1/conversations/c1/context": () => ({ body: { contact: null, visitor: null, reply_to_email: null, past_conversations: [], current_page: null, pages: [] } }),
    "GET /api/v1/conversations/c1/mail": () => ({ body: thread([envelope(1)]) }),
    "GET /api/v1/conversations/c1/suggestions": () => ({ status: 404, body: { error: { code: "not_found", message: "Not Found" } } }),
  });
  const desk = mount(document.createElement("relais-desk"));
  const root = () => desk.shadowRoot!;
  await waitFor(() => FakeSocket.instances.length === 1 && FakeSocket.last().sent.length === 1, "the hello");
  FakeSocket.last().ready({ kind: "agent", id: "a1", name: "Alice" });
  const item = await waitFor(() => deepQuery<HTMLElement>("[data-testid=conversation-item]", root()), "the list");
  item.click();
  await waitFor(() => deepQuery("relais-mail-view", root()), "the mail");
  await waitFor(() => text(deepQuery("[data-testid=no-suggestions]", root())) === "No suggested answer for this e-mail.", "none to suggest");
  const back = deepQuery<HTMLButtonElement>("[data-testid=back]", root())!;
  equal(back.getAttribute("aria-label"), "Back to the list");
  back.click();
  await waitFor(() => !deepQuery("relais-mail-view", root()), "back to the list");
});
