// Callbacks ("call me back") as both sides see them: the API's shapes (docs/api.md,
// "Callbacks"), and the English and French words of the widget's form and the desk's panel.

import type { Lang } from "./i18n.js";

export type CallbackStatus = "booked" | "waiting" | "calling" | "retry" | "done" | "cancelled";
export type CallbackOutcome = "reached" | "no_answer" | "busy" | "wrong_number";
export type CallbackEnd = "reached" | "wrong_number" | "unreachable" | "cancelled";

export interface CallbackAttempt {
  number: number;
  agent_id: string;
  started_at: string;
  outcome: CallbackOutcome | null;
  ended_at: string | null;
}

/** CallbackOut. */
export interface Callback {
  id: string;
  task_id: string;
  status: CallbackStatus;
  number: string;
  reason: string;
  lang: string;
  consent_at: string;
  slot_start: string | null;
  slot_end: string | null;
  conversation_id: string | null;
  page_url: string | null;
  page_title: string | null;
  attempts: CallbackAttempt[];
  max_attempts: number;
  next_attempt_at: string | null;
  outcome: CallbackEnd | null;
  created_at: string;
  ended_at: string | null;
}

export interface Slot {
  start: string;
  end: string;
}

/** GET /api/v1/callbacks/slots. */
export interface Slots {
  open_now: boolean;
  timezone: string;
  slot_minutes: number;
  slots: Slot[];
}

export function isOpen(callback: Callback | null | undefined): callback is Callback {
  return !!callback && callback.status !== "done" && callback.status !== "cancelled";
}

/** "Tuesday 14 January", in the visitor's (or agent's) own time zone. */
export function dayLabel(iso: string, lang: Lang): string {
  return new Intl.DateTimeFormat(lang, { weekday: "long", day: "numeric", month: "long" }).format(new Date(iso));
}

export function timeLabel(iso: string, lang: Lang): string {
  return new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
}

/** "14:00–14:30", or "Tuesday 14 January, 14:00–14:30" when `withDay`. */
export function slotLabel(slot: Slot, lang: Lang, withDay = false): string {
  const range = `${timeLabel(slot.start, lang)}–${timeLabel(slot.end, lang)}`;
  return withDay ? `${dayLabel(slot.start, lang)}, ${range}` : range;
}

/** French numbers in the groups people read them in (+33 6 12 34 56 78); others as E.164. */
export function spacedNumber(e164: string): string {
  const french = /^\+33(\d)(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(e164);
  return french ? `+33 ${french.slice(1).join(" ")}` : e164;
}

const en = {
  callMeBack: "Call me back",
  callbackTitle: "Ask to be called back",
  callbackIntro: "Leave your number: an agent calls you, now or at the time you choose.",
  phone: "Your phone number",
  phoneHint: "With the country code if it isn't a French number, e.g. +44 20 7946 0958.",
  reason: "What is it about? (optional)",
  when: "When",
  asap: "As soon as possible",
  asapClosed: "As soon as possible (we're closed now)",
  atTime: "At a time I choose",
  day: "Day",
  slot: "Time",
  noSlots: "No time can be booked in the coming days.",
  consent: "I agree to be called on this number about my request.",
  submit: "Call me back",
  back: "Back to the chat",
  sending: "Sending…",
  loading: "Loading the times…",
  booked: (number: string, when: string) => `We will call you on ${number} on ${when}.`,
  waiting: (number: string) => `We will call you on ${number} as soon as an agent is free.`,
  place: (position: number, minutes: number | null) =>
    (position === 1 ? "You are next" : `${position - 1} ${position === 2 ? "person is" : "people are"} before you`) +
    (minutes === null ? "." : `, about ${minutes <= 1 ? "a minute" : `${minutes} minutes`}.`),
  calling: (number: string) => `An agent is calling you now on ${number}.`,
  retry: (when: string, attempt: number, max: number) =>
    `We couldn't reach you. We will try again around ${when} (call ${attempt} of ${max}).`,
  slotStarted: "Your time has come: an agent will call you shortly.",
  done: {
    reached: "Thank you: we have called you.",
    wrong_number: "We couldn't reach you on this number. Check it and ask again if you wish.",
    unreachable: "We couldn't reach you, despite several calls. Ask again whenever you wish.",
    cancelled: "Your callback request is cancelled.",
  } as Record<CallbackEnd, string>,
  changeTime: "Change the time",
  saveTime: "Save the new time",
  keepTime: "Keep this time",
  cancelCallback: "Cancel the callback",
  newRequest: "Ask for another callback",
  offerCallback: "Rather not wait? We can call you back.",
  errors: {
    invalid_number: "This doesn't look like a phone number; check it, with its country code.",
    number_refused: "This number can't be called back.",
    country_not_allowed: "We can't call numbers of this country.",
    queue_closed: "We're closed now; choose a time to be called back.",
    invalid_slot: "This time can't be booked; choose another one.",
    too_many_requests: "Too many callback requests; please try again later.",
    consent_required: "Please agree to be called back on this number.",
    callback_in_progress: "An agent is calling you now; it can't be changed.",
  } as Record<string, string>,
  // desk
  callbackPanel: "Callback",
  callNow: (number: string) => `Call ${number}`,
  attemptOf: (n: number, max: number) => `Call ${n} of ${max}`,
  previousAttempts: "Previous calls",
  outcomeQuestion: "How did the call go?",
  outcomes: {
    reached: "Reached",
    no_answer: "No answer",
    busy: "Busy",
    wrong_number: "Wrong number",
  } as Record<CallbackOutcome, string>,
  dialling: "Getting the number…",
  recorded: (outcome: string) => `Recorded: ${outcome}.`,
  askedFor: (when: string) => `Asked for ${when}`,
  asapShort: "as soon as possible",
};

export type CallbackStrings = typeof en;

const fr: CallbackStrings = {
  callMeBack: "Être rappelé",
  callbackTitle: "Demander à être rappelé",
  callbackIntro: "Laissez votre numéro : un conseiller vous appelle, maintenant ou à l’heure de votre choix.",
  phone: "Votre numéro de téléphone",
  phoneHint: "Avec l’indicatif du pays si ce n’est pas un numéro français, p. ex. +32 2 123 45 67.",
  reason: "À quel sujet ? (facultatif)",
  when: "Quand",
  asap: "Dès que possible",
  asapClosed: "Dès que possible (nous sommes fermés)",
  atTime: "À l’heure de mon choix",
  day: "Jour",
  slot: "Heure",
  noSlots: "Aucun créneau n’est disponible dans les prochains jours.",
  consent: "J’accepte d’être appelé(e) à ce numéro au sujet de ma demande.",
  submit: "Me rappeler",
  back: "Retour à la discussion",
  sending: "Envoi…",
  loading: "Chargement des créneaux…",
  booked: (number, when) => `Nous vous appellerons au ${number} le ${when}.`,
  waiting: (number) => `Nous vous appellerons au ${number} dès qu’un conseiller sera libre.`,
  place: (position, minutes) =>
    (position === 1 ? "Vous êtes le prochain" : `${position - 1} personne${position > 2 ? "s" : ""} avant vous`) +
    (minutes === null ? "." : `, environ ${minutes <= 1 ? "une minute" : `${minutes} minutes`}.`),
  calling: (number) => `Un conseiller vous appelle maintenant au ${number}.`,
  retry: (when, attempt, max) =>
    `Nous n’avons pas pu vous joindre. Nouvel essai vers ${when} (appel ${attempt} sur ${max}).`,
  slotStarted: "C’est l’heure : un conseiller va vous appeler.",
  done: {
    reached: "Merci : nous vous avons appelé.",
    wrong_number: "Nous n’avons pas pu vous joindre à ce numéro. Vérifiez-le et refaites une demande si vous le souhaitez.",
    unreachable: "Nous n’avons pas pu vous joindre malgré plusieurs appels. Refaites une demande quand vous le souhaitez.",
    cancelled: "Votre demande de rappel est annulée.",
  },
  changeTime: "Changer l’heure",
  saveTime: "Enregistrer la nouvelle heure",
  keepTime: "Garder cette heure",
  cancelCallback: "Annuler le rappel",
  newRequest: "Demander un autre rappel",
  offerCallback: "Vous préférez ne pas attendre ? Nous pouvons vous rappeler.",
  errors: {
    invalid_number: "Ce numéro ne semble pas valide ; vérifiez-le, avec l’indicatif du pays.",
    number_refused: "Ce numéro ne peut pas être rappelé.",
    country_not_allowed: "Nous ne pouvons pas appeler les numéros de ce pays.",
    queue_closed: "Nous sommes fermés ; choisissez une heure de rappel.",
    invalid_slot: "Ce créneau n’est plus disponible ; choisissez-en un autre.",
    too_many_requests: "Trop de demandes de rappel ; réessayez plus tard.",
    consent_required: "Merci d’accepter d’être rappelé(e) à ce numéro.",
    callback_in_progress: "Un conseiller vous appelle déjà ; ce n’est plus modifiable.",
  },
  callbackPanel: "Rappel",
  callNow: (number) => `Appeler le ${number}`,
  attemptOf: (n, max) => `Appel ${n} sur ${max}`,
  previousAttempts: "Appels précédents",
  outcomeQuestion: "Comment s’est passé l’appel ?",
  outcomes: {
    reached: "Joint",
    no_answer: "Pas de réponse",
    busy: "Occupé",
    wrong_number: "Faux numéro",
  },
  dialling: "Préparation de l’appel…",
  recorded: (outcome) => `Enregistré : ${outcome}.`,
  askedFor: (when) => `Demandé pour ${when}`,
  asapShort: "dès que possible",
};

export function callbackStrings(lang: Lang): CallbackStrings {
  return lang === "fr" ? fr : en;
}
