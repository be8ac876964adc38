// Re-renders a Lit host whenever the shared chat store changes.

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
  }

  hostDisconnected(): void {
    this.store.removeEventListener("change", this.onChange);
  }
}
