// The desk's callback panel alone, REST answered in the page; and the shared callback helpers.
import { Api } from "../../shared/api.js";
import { isOpen, spacedNumber, type Callback } from "../../shared/callback.js";
import { deepQuery, deepQueryAll, equal, mount, ok, stubFetch, test, waitFor } from "../../shared/testing.js";
import type { Task } from "../../shared/types.js";
import type { CallbackRecordedDetail } from "./callback-panel.js";
import "./callback-panel.js";

const at = (n: number) => new Date(Date.now() + n * 1000).toISOString();

function task(overrides: Partial<Task> = {}): Task {
  return {
    id: "t1", channel: "callback", queue_id: "q1", state: "assigned", version: 4, priority: 0, requirements: {},
    attributes: { callback_id: "cb1", phone: "+33612345678", reason: "Delivery of order 1234", page_title: "Cart" },
    conversation_id: null, contact_id: null, visitor_id: "v1", agent_id: "a1", attempts: 1,
    created_at: at(-600), queued_at: at(-5), not_before: null, deadline: null, assigned_at: at(-1),
    wrap_up_until: null, ended_at: null, end_reason: null, ...overrides,
  };
}

function callback(overrides: Partial<Callback> = {}): Callback {
  return {
    id: "cb1", task_id: "t1", status: "calling", number: "+33612345678", reason: "Delivery of order 1234", lang: "en",
    consent_at: at(-600), slot_start: null, slot_end: null, conversation_id: null, page_url: null, page_title: "Cart",
    attempts: [
      { number: 1, agent_id: "a2", started_at: at(-300), outcome: "no_answer", ended_at: at(-290) },
      { number: 2, agent_id: "a1", started_at: at(0), outcome: null, ended_at: null },
    ],
    max_attempts: 3, next_attempt_at: null, outcome: null, created_at: at(-600), ended_at: null, ...overrides,
  };
}

function panel(t: Task) {
  const el = document.createElement("relais-callback-panel");
  el.task = t;
  el.api = new Api({ base: "", csrf: () => "csrf-1" });
  el.language = "en";
  return mount(el);
}

test("an accepted callback dials once and shows the tel: link, the reason and the earlier call", async () => {
  const calls = stubFetch({ "POST /api/v1/callbacks/cb1/dial": () => ({ body: { call: "tel:+33612345678", callback: callback() } }) });
  const el = panel(task());
  const link = await waitFor(() => deepQuery<HTMLAnchorElement>("[data-testid=callback-call]", el.shadowRoot!), "the call link");
  equal(link.getAttribute("href"), "tel:+33612345678");
  equal(link.textContent, "Call +33 6 12 34 56 78");
  equal(deepQuery("[data-testid=callback-attempt]", el.shadowRoot!)!.textContent, "Call 2 of 3");
  equal(deepQuery("[data-testid=callback-reason]", el.shadowRoot!)!.textContent, "Delivery of order 1234");
  equal(deepQueryAll(".attempts li", el.shadowRoot!).length, 1, "the unanswered first call");
  el.task = { ...task(), version: 5 }; // a later frame of the same task: no second dial
  await el.updateComplete;
  equal(calls.filter((c) => c.path.endsWith("/dial")).length, 1);
  equal(calls[0]!.headers["x-csrf-token"], "csrf-1");
});

test("an outcome button records it and says so with an event", async () => {
  const calls = stubFetch({
    "POST /api/v1/callbacks/cb1/dial": () => ({ body: { call: "tel:+33612345678", callback: callback() } }),
    "POST /api/v1/callbacks/cb1/outcome": () => ({ body: callback({ status: "retry", next_attempt_at: at(600) }) }),
  });
  const el = panel(task());
  const seen: CallbackRecordedDetail[] = [];
  el.addEventListener("relais-callback-recorded", (e) => seen.push(e.detail));
  const busy = await waitFor(() => deepQuery<HTMLButtonElement>("[data-testid=outcome-busy]", el.shadowRoot!), "the outcome buttons");
  equal(deepQuery("[role=group]", el.shadowRoot!)!.getAttribute("aria-labelledby"), "cb-question");
  busy.click();
  await waitFor(() => seen.length === 1, "the recorded event");
  equal(seen[0]!.callback.status, "retry");
  equal(calls.find((c) => c.path.endsWith("/outcome"))!.body, { outcome: "busy" });
});

test("a refused dial is said, and can be asked again", async () => {
  let refuse = true;
  stubFetch({
    "POST /api/v1/callbacks/cb1/dial": () =>
      refuse
        ? { status: 409, body: { error: { code: "callback_not_assigned", message: "This callback is not yours to call now." } } }
        : { body: { call: "tel:+33612345678", callback: callback() } },
  });
  const el = panel(task());
  const error = await waitFor(() => deepQuery("[data-testid=callback-error]", el.shadowRoot!), "the error");
  ok(error.textContent!.includes("not yours to call now"), error.textContent!);
  equal(deepQuery("[data-testid=callback-number]", el.shadowRoot!)!.textContent, "+33 6 12 34 56 78");
  refuse = false;
  deepQuery<HTMLButtonElement>(".retry", el.shadowRoot!)!.click();
  await waitFor(() => deepQuery("[data-testid=callback-call]", el.shadowRoot!), "the call link after a retry");
});

test("numbers read aloud in groups, and which callbacks are still open", () => {
  equal(spacedNumber("+33612345678"), "+33 6 12 34 56 78");
  equal(spacedNumber("+442079460958"), "+442079460958");
  ok(isOpen(callback({ status: "booked" })) && isOpen(callback({ status: "retry" })));
  ok(!isOpen(callback({ status: "done" })) && !isOpen(callback({ status: "cancelled" })) && !isOpen(null));
});
