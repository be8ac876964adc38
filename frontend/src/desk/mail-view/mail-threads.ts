// The mail side of the desk's e-mail conversations (GET /api/v1/conversations/{id}/mail): the
// thread's number and reply subject, each message's envelope, each answer's state in the outbox.

import { ApiError, type Api } from "../../shared/api.js";
import type { MailThread } from "../../shared/types.js";

/** Seconds between reads while an answer waits in the outbox: about two minutes in all. */
const REFRESH_S = [1, 2, 4, 8, 15, 30, 30, 30];

/**
 * Threads by conversation id. The outbox's moves (queued → sent, failed, bounced) are not
 * events on the WebSocket: while an answer of the conversation shown is queued, its thread is
 * read again with back-off, and whenever a message of it comes (`load` again).
 *
 * @event change - a thread was read.
 */
export class MailThreads extends EventTarget {
  private readonly threads = new Map<string, MailThread>();
  private readonly timers = new Map<string, number>();
  /** Raised by `load` and `stop`: a read already under way then schedules no more. */
  private readonly generation = new Map<string, number>();

  constructor(
    private readonly api: Api,
    private readonly onError: (text: string) => void,
  ) {
    super();
  }

  get(conversationId: string): MailThread | undefined {
    return this.threads.get(conversationId);
  }

  /** Reads the thread now; keeps reading it while an answer is queued (until `stop`). */
  async load(conversationId: string): Promise<void> {
    this.stop(conversationId);
    await this.read(conversationId, 0, this.generation.get(conversationId) ?? 0);
  }

  /** No more reads of that conversation's thread (or of any, without an id). */
  stop(conversationId?: string): void {
    const ids = conversationId === undefined ? [...this.generation.keys()] : [conversationId];
    for (const id of ids) {
      window.clearTimeout(this.timers.get(id));
      this.timers.delete(id);
      this.generation.set(id, (this.generation.get(id) ?? 0) + 1);
    }
  }

  private async read(conversationId: string, tries: number, generation: number): Promise<void> {
    try {
      const thread = await this.api.get<MailThread>(`/api/v1/conversations/${conversationId}/mail`);
      if (this.generation.get(conversationId) !== generation) return; // stopped or read anew
      this.threads.set(conversationId, thread);
      this.dispatchEvent(new Event("change"));
      if (thread.envelopes.some((e) => e.state === "queued") && tries < REFRESH_S.length) {
        this.timers.set(conversationId, window.setTimeout(() => {
          this.timers.delete(conversationId);
          void this.read(conversationId, tries + 1, generation);
        }, REFRESH_S[tries] * 1000));
      }
    } catch (error) {
      // A conversation that never spoke e-mail has no thread: nothing to show, nothing wrong.
      if (error instanceof ApiError && error.code === "no_mail_thread") return;
      this.onError(error instanceof ApiError ? error.message : String(error));
    }
  }
}
