// The Lit side of the shared realtime store: a ReactiveController that re-renders its host
// whenever the store changes, and when the page comes back into view (read receipts are sent
// only for what is on screen).

import type { ReactiveController, ReactiveControllerHost } from "lit";
import type { ChatStore } from "./chat-store.js";

export class StoreController implements ReactiveController {
  private readonly onChange = () => this.host.requestUpdate();

  constructor(
    private readonly host: ReactiveControllerHost,
    readonly store: ChatStore,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.store.addEventListener("change", this.onChange);
    document.addEventListener("visibilitychange", this.onChange);
  }

  hostDisconnected(): void {
    this.store.removeEventListener("change", this.onChange);
    document.removeEventListener("visibilitychange", this.onChange);
  }
}
