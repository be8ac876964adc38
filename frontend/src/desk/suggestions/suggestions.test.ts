// The suggested answers panel alone; GET …/suggestions answered in the page to its contract.
import { Api } from "../../shared/api.js";
import { strings } from "../../shared/i18n.js";
import { deepQueryAll, equal, mount, ok, stubFetch, test, waitFor } from "../../shared/testing.js";
import type { Suggestion } from "../../shared/types.js";
import type { SuggestionDetail } from "./suggestions.js";
import "./suggestions.js";

const answers: Suggestion[] = [
  { text: "Bonjour,\nvotre colis part demain matin.", score: 0.9, source: "reply", uses: 12 },
  { text: "<b>Retours</b> : 30 jours pour changer d'avis", score: 0.55, source: "article", uses: 1 },
];

function panel(id: string, lang: "en" | "fr" = "en") {
  const el = document.createElement("relais-suggestions");
  el.api = new Api({ base: "" });
  el.conversationId = id;
  el.refreshKey = 1;
  el.strings = strings(lang);
  return mount(el);
}

const text = (el: Element) => el.textContent?.replace(/\s+/g, " ").trim() ?? "";
const buttons = (el: HTMLElement) => deepQueryAll<HTMLButtonElement>("[data-testid=suggestion]", el.shadowRoot!);

test("suggestions show best first with their source, uses and match, as text; a pick is an event only", async () => {
  const calls = stubFetch({ "GET /api/v1/conversations/c1/suggestions": () => ({ body: answers }) });
  const el = panel("c1", "fr");
  const shown = await waitFor(() => buttons(el).length === 2 && buttons(el), "two suggestions");
  ok(text(shown[0]).startsWith("Bonjour, votre colis part demain matin."), text(shown[0]));
  ok(text(shown[0]).endsWith("Réponse passée · utilisée 12 fois · pertinence 90 %"), text(shown[0]));
  ok(text(shown[1]).endsWith("Article · utilisée une fois · pertinence 55 %"), text(shown[1]));
  equal(deepQueryAll("b", el.shadowRoot!).length, 0, "a suggestion's text is never HTML");
  const picked: SuggestionDetail[] = [];
  el.addEventListener("relais-suggestion", (e) => picked.push(e.detail));
  shown[1].click();
  equal(picked, [{ text: answers[1].text }]);
  equal(calls.filter((c) => c.method !== "GET").length, 0, "nothing posted");
});

test("a new customer message asks again; another conversation never shows the previous answers", async () => {
  let release: (() => void) | null = null;
  const calls = stubFetch({
    "GET /api/v1/conversations/c1/suggestions": () => ({ body: answers }),
    "GET /api/v1/conversations/c2/suggestions": () =>
      new Promise((resolve) => (release = () => resolve({ body: [answers[1]] }))),
  });
  const el = panel("c1");
  await waitFor(() => buttons(el).length === 2, "c1's");
  el.refreshKey = 2;
  await waitFor(() => calls.length === 2, "asked again");
  el.conversationId = "c2";
  await el.updateComplete;
  await waitFor(() => release !== null, "c2 asked");
  equal(buttons(el).length, 0, "c1's answers gone while c2's come");
  release!();
  await waitFor(() => buttons(el).length === 1, "c2's");
});

test("none to give, or no such endpoint, says none; a server fault says what it is; the panel folds", async () => {
  stubFetch({
    "GET /api/v1/conversations/c1/suggestions": () => ({ body: [] }),
    "GET /api/v1/conversations/c2/suggestions": () => ({ status: 404, body: { error: { code: "not_found", message: "Not Found" } } }),
    "GET /api/v1/conversations/c3/suggestions": () => ({ status: 500, body: { error: { code: "internal", message: "Something failed." } } }),
  });
  for (const id of ["c1", "c2"]) {
    const el = panel(id);
    await waitFor(() => el.shadowRoot!.querySelector("[data-testid=no-suggestions]"), `none for ${id}`);
  }
  const el = panel("c3");
  const alert = await waitFor(() => el.shadowRoot!.querySelector("[role=alert]"), "the fault");
  equal(text(alert), "Something failed.");
  const toggle = el.shadowRoot!.querySelector<HTMLButtonElement>("[data-testid=suggestions-toggle]")!;
  equal([text(toggle), toggle.getAttribute("aria-expanded")], ["Hide", "true"]);
  toggle.click();
  await el.updateComplete;
  equal([text(toggle), toggle.getAttribute("aria-expanded"), el.shadowRoot!.querySelector("[role=alert]")], ["Show", "false", null]);
});
