// The wire contract (docs/api.md), typed once for the widget and the desk.

import type { Callback } from "./callback.js";

export type Status = "open" | "pending" | "resolved";
export type AuthorKind = "visitor" | "agent" | "system";

export interface Conversation {
  id: string;
  status: Status;
  channel: string;
  subject: string | null;
  visitor_id: string | null;
  contact_id: string | null;
  contact_name: string | null;
  team_id: string;
  assignee_id: string | null;
  assignee_name: string | null;
  last_seq: number;
  visitor_read_seq: number;
  agent_read_seq: number;
  rating: number | null;
  created_at: string;
  updated_at: string;
}

export interface Attachment {
  id: string;
  filename: string;
  content_type: string;
  size: number;
  url: string;
}

export interface Message {
  id: string;
  conversation_id: string;
  seq: number;
  client_id: string | null;
  author_kind: AuthorKind;
  author_id: string | null;
  author_name: string | null;
  body: string;
  html: string;
  attachments: Attachment[];
  created_at: string;
}

/** A message as the UI shows it: stored, or still on its way under its client id. */
export interface ShownMessage extends Message {
  state: "sent" | "pending" | "failed";
  /** Why a failed message was refused, when the server said. */
  error?: string | null;
}

export interface ErrorBody {
  code: string;
  message: string;
}

export interface Principal {
  kind: "visitor" | "agent";
  id: string;
  name: string | null;
}

export type ServerFrame =
  | { type: "ready"; seq: number; principal: Principal; heartbeat_s: number; agents_online?: boolean }
  | { type: "conversation"; seq: number; reason: string; conversation: Conversation }
  | { type: "message"; seq: number; message: Message; conversation_status: Status }
  | {
      type: "typing";
      seq: number;
      conversation_id: string;
      author_kind: "visitor" | "agent";
      author_name: string | null;
      typing: boolean;
    }
  | { type: "read"; seq: number; conversation_id: string; reader_kind: "visitor" | "agent"; read_seq: number }
  | { type: "visitor_page"; seq: number; conversation_id: string; visitor_id: string; url: string; title: string; at: string }
  | { type: "presence"; seq: number; agents_online?: boolean; agent_id?: string; presence?: string }
  | {
      type: "ack"; seq: number; ref: string | null; ok: boolean;
      /** On success: the stored message and the conversation's status after it. */
      message?: Message; conversation_status?: Status; error?: ErrorBody;
    }
  | { type: "pong"; seq: number; ref: string | null }
  | { type: "heartbeat"; seq: number; cursors: Record<string, number> }
  | { type: "error"; seq: number; code: string; message: string; ref?: string | null }
  | { type: "task"; seq: number; command: TaskCommand; task: Task }
  | { type: "callback_offered"; seq: number; task_id: string }
  | { type: "callback"; seq: number; callback: Callback }
  | {
      /** Supervisors: an e-mail task about to miss (at_risk) or past (breached) its SLA target. */
      type: "sla"; seq: number; level: "at_risk" | "breached"; clock: "first_response" | "resolution";
      task_id: string; conversation_id: string | null; queue_id: string; due_at: string; priority: number;
    }
  | {
      type: "queue_position"; seq: number; conversation_id: string | null; task_id: string;
      position: number; estimated_wait_s: number | null;
    };

export type FrameOf<T extends ServerFrame["type"]> = Extract<ServerFrame, { type: T }>;
export type FrameHandlers = { [T in ServerFrame["type"]]?: (frame: FrameOf<T>) => void };

export interface AgentInfo {
  id: string;
  email: string;
  name: string;
  role: "agent" | "supervisor" | "admin";
  presence: "available" | "away" | "offline";
  presence_reason: string | null;
  team_ids: string[];
}

export interface PageView {
  url: string;
  title: string;
  started_at: string;
  seconds: number | null;
}

export interface Context {
  contact: { id: string; name: string | null; emails: string[]; phones: string[]; external_id: string | null; attributes: Record<string, unknown> } | null;
  visitor: { id: string; claimed_name: string | null; claimed_email: string | null; lang: string; user_agent: string | null } | null;
  reply_to_email: string | null;
  past_conversations: Conversation[];
  current_page: PageView | null;
  pages: PageView[];
}

// -- The ACD: tasks of the universal queue, offers, the wallboard ------------------------------

export type TaskChannel = "chat" | "email" | "callback" | "voice";
export type TaskState =
  | "scheduled" | "queued" | "reserved" | "assigned" | "wrap_up"
  | "completed" | "cancelled" | "abandoned" | "timed_out";
export type TaskCommand =
  | "create" | "reserve" | "accept" | "reject" | "expire" | "transfer" | "complete" | "end_wrap_up"
  | "cancel" | "abandon" | "time_out" | "enqueue" | "retry_later" | "reschedule" | "sync";

/** What routing knows of the customer's request; free-form beyond the keys named here. */
export interface TaskAttributes {
  language?: string;
  page_url?: string;
  page_title?: string;
  phone?: string;
  reason?: string;
  [key: string]: unknown;
}

/** TaskOut: one unit of work of the universal queue. Each write raises `version`. */
export interface Task {
  id: string;
  channel: TaskChannel;
  queue_id: string;
  state: TaskState;
  version: number;
  priority: number;
  requirements: Record<string, number>;
  attributes: TaskAttributes;
  conversation_id: string | null;
  contact_id: string | null;
  visitor_id: string | null;
  agent_id: string | null;
  attempts: number;
  created_at: string;
  queued_at: string | null;
  not_before: string | null;
  /** Reserved: when the offer lapses. */
  deadline: string | null;
  assigned_at: string | null;
  wrap_up_until: string | null;
  ended_at: string | null;
  end_reason: string | null;
}

/** GET /api/v1/tasks/{id}/screen-pop: the offer with who the customer is, before accepting. */
export interface ScreenPop {
  task: Task;
  context: Context | null;
  /** Seconds the customer has waited, on the server's clock when answering. */
  waited_s: number | null;
  /** The customer's page in the company's CRM (RELAIS_CTI__POP_URL_TEMPLATE), if known. */
  crm_url: string | null;
  /** Open it when the agent accepts (RELAIS_CTI__OPEN_ON_ACCEPT). */
  crm_open_on_accept: boolean;
}

export interface Queue {
  id: string;
  name: string;
  channels: string[];
  team_ids: string[];
  overflow_team_ids: string[];
  rules: Record<string, unknown>;
  hours: Record<string, unknown> | null;
  sl_target_s: number;
  sl_goal: number;
}

export interface WallboardInterval {
  start: string;
  offered: number;
  answered: number;
  abandoned: number;
  service_level: number | null;
  asa_s: number | null;
}

/** One queue, or all queues together (`id` null): definitions in docs/metrics.md. */
export interface WallboardQueue {
  id: string | null;
  name: string;
  channels: string[];
  waiting: number;
  longest_wait_s: number | null;
  offered: number;
  answered: number;
  /** Short abandons included; they are also given apart. */
  abandoned: number;
  short_abandoned: number;
  timed_out: number;
  transferred_out: number;
  abandonment_rate: number | null;
  /** Fractions (0–1), like sl_goal. */
  service_level_15m: number | null;
  service_level_today: number | null;
  /** All queues: null when the queues' targets or goals differ. */
  sl_target_s: number | null;
  sl_goal: number | null;
  asa_s: number | null;
  aht_s: number | null;
  agents: { available: number; busy: number; away: number; offline: number };
  occupancy: number | null;
  intervals: WallboardInterval[];
  /** Per queue only. */
  staffing: {
    calls_per_hour: number | null;
    aht_s: number | null;
    agents_needed: number | null;
    agents_available: number;
  } | null;
  /** Open e-mail tasks whose SLA clock is at risk / breached, as of the last check. */
  sla_at_risk: number;
  sla_breached: number;
}

export interface WallboardAgent {
  id: string;
  name: string;
  presence: "available" | "away" | "offline";
  reason: string | null;
  tasks: number;
  occupancy: number | null;
}

/** GET /api/v1/wallboard. */
export interface Wallboard {
  generated_at: string;
  /** The all-queues day: the earliest midnight of the queues' time zones. */
  day_start: string;
  queues: WallboardQueue[];
  all_queues: WallboardQueue;
  agents: WallboardAgent[];
}

// -- E-mail conversations: the desk's view of their mail (docs/api.md, "E-mail conversations") --

export type MailState = "received" | "queued" | "sent" | "failed" | "bounced";

/** One message's mail: who wrote to whom, when, and for an answer where its mail stands. */
export interface Envelope {
  /** The conversation message (Message.id) this envelope belongs to. */
  message_id: string;
  seq: number;
  direction: "in" | "out";
  from_name: string | null;
  from_address: string | null;
  to: string[];
  cc: string[];
  subject: string;
  /** In: the Date header; out: when the relay took it (null while queued). */
  date: string | null;
  state: MailState;
  /** Failed or bounced: the relay's or the delivery report's words. */
  error: string | null;
}

/** GET /api/v1/conversations/{id}/mail. */
export interface MailThread {
  conversation_id: string;
  number: number;
  /** "[#n]", as every subject sent carries it. */
  reference: string;
  subject: string;
  /** The subject the next answer goes out with. */
  reply_subject: string;
  reply_to_name: string | null;
  reply_to: string;
  mailbox_address: string | null;
  envelopes: Envelope[];
}

/** GET /api/v1/conversations/{id}/suggestions: answers to start from, best first. */
export interface Suggestion {
  text: string;
  score: number;
  source: "reply" | "article";
  uses: number;
}
