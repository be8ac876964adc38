// The embeddable entry: <script src="https://HOST/widget.js" async></script> on any page.

import "./widget.js";
import type { RelaisWidget } from "./widget.js";

// Read while this script runs: document.currentScript is null later (in DOMContentLoaded).
const script =
  (document.currentScript as HTMLScriptElement | null) ??
  document.querySelector<HTMLScriptElement>('script[src*="widget.js"]');

function mount(): void {
  if (document.querySelector("relais-widget")) return;
  const server = script ? new URL(script.src, location.href).origin : location.origin;
  const widget = document.createElement("relais-widget") as RelaisWidget;
  widget.server = server;
  widget.identity = script?.dataset.identity || null;
  if (script?.dataset.lang === "fr" || script?.dataset.lang === "en") widget.language = script.dataset.lang;
  document.body.append(widget);

  // Single-page sites change pages without loading: report those too.
  // After the page's own handler has run (it may set the title).
  const report = () => setTimeout(() => widget.reportPage(), 0);
  const push = history.pushState.bind(history);
  history.pushState = (...args: Parameters<History["pushState"]>) => {
    push(...args);
    report();
  };
  window.addEventListener("popstate", report);

  // A site may place "call me back" buttons anywhere: <button data-relais-callback>.
  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target.closest("[data-relais-callback]") : null;
    if (!target) return;
    event.preventDefault();
    widget.openCallback();
  });

  (window as unknown as { Relais: unknown }).Relais = {
    open: () => widget.setOpen(true),
    callback: () => widget.openCallback(),
    close: () => widget.setOpen(false),
    identify: (jwt: string) => widget.identify(jwt),
  };
}

if (document.body) mount();
else document.addEventListener("DOMContentLoaded", mount);
