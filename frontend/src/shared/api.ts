// Calls to the REST API. Failures become ApiError with the server's code and message.

import type { ErrorBody } from "./types.js";

export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiOptions {
  base: string;
  /** Visitor: bearer token. Agent: undefined (cookies). */
  token?: () => string | null;
  /** Agent: the CSRF token to echo on changes. */
  csrf?: () => string | null;
}

export class Api {
  constructor(private readonly options: ApiOptions) {}

  get base(): string {
    return this.options.base;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    const token = this.options.token?.();
    if (token) headers["Authorization"] = `Bearer ${token}`;
    const csrf = this.options.csrf?.();
    if (csrf && method !== "GET") headers["X-CSRF-Token"] = csrf;
    let payload: BodyInit | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(this.options.base + path, {
        method,
        headers,
        body: payload,
        credentials: this.options.token ? "omit" : "same-origin",
        mode: "cors",
      });
    } catch {
      throw new ApiError(0, "network", "The server cannot be reached.");
    }
    if (response.status === 204 || response.status === 202) {
      return (await response.text().then((t) => (t ? JSON.parse(t) : undefined))) as T;
    }
    const data: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const error = (data as { error?: ErrorBody } | undefined)?.error;
      throw new ApiError(response.status, error?.code ?? "http_error", error?.message ?? response.statusText);
    }
    return data as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, body ?? {});
  }

  put<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("PUT", path, body ?? {});
  }
}

/** Uploads files to a conversation (multipart) and gives back their ids, to send with a message. */
export async function uploadFiles(api: Api, conversationId: string, files: File[]): Promise<string[]> {
  const ids: string[] = [];
  for (const file of files) {
    const form = new FormData();
    form.append("conversation_id", conversationId);
    form.append("file", file);
    ids.push((await api.request<{ id: string }>("POST", "/api/v1/attachments", form)).id);
  }
  return ids;
}

export function errorText(error: unknown): string {
  return error instanceof ApiError ? error.message : String(error);
}

export function newClientId(): string {
  return crypto.randomUUID().replace(/-/g, "");
}
