// English and French strings of both sides. The widget follows the host page's <html lang>.

import type { TaskChannel } from "./types.js";

const en = {
  chatWithUs: "Chat with us",
  close: "Close",
  title: "Customer service",
  subtitleOnline: "We usually answer within minutes",
  subtitleOffline: "Nobody is available right now",
  placeholder: "Write a message…",
  send: "Send",
  attach: "Attach a file",
  typing: (name: string) => `${name} is typing…`,
  someone: "Someone",
  seen: "Seen",
  sending: "Sending…",
  failed: "Not sent.",
  retry: "Retry",
  you: "You",
  agent: "Agent",
  visitor: "Visitor",
  reconnecting: "Reconnecting…",
  queuePlace: (place: number, minutes: number | null) =>
    `You are ${place === 1 ? "next" : ordinalEn(place) + " in line"}` +
    (minutes === null ? "." : `, about ${minutes <= 1 ? "a minute" : `${minutes} minutes`}.`),
  welcome: "Hello! How can we help you?",
  offlineTitle: "Leave us a message",
  offlineIntro: "Nobody is available right now. Leave your message and your e-mail address: we will answer you by e-mail.",
  name: "Your name",
  email: "Your e-mail address",
  message: "Your message",
  leaveMessage: "Send the message",
  offlineThanks: "Thank you! We will answer you by e-mail.",
  resolved: "This conversation is closed.",
  rateUs: "How was this conversation?",
  stars: (n: number) => `${n} out of 5`,
  thanksRating: "Thank you for your rating.",
  transcript: "E-mail me the transcript",
  transcriptSent: "The transcript will be sent to you.",
  request: "Send",
  newConversation: "Start a new conversation",
  language: "Français",
  tooLong: (n: number) => `${n} characters at most`,
  uploading: "Sending…",
  removeFiles: "remove",
  dismiss: "Dismiss",
  // desk
  deskTitle: "Relais desk",
  login: "Log in",
  password: "Password",
  logout: "Log out",
  available: "Available",
  away: "Away",
  conversations: "Conversations",
  noConversations: "No conversations yet. New ones appear here.",
  waiting: "Waiting",
  resolve: "Resolve",
  pickConversation: "Select a conversation on the left.",
  contact: "Customer",
  anonymous: "Anonymous visitor",
  unverified: "unverified",
  currentPage: "Current page",
  path: "Pages visited",
  history: "Previous conversations",
  noHistory: "None",
  newConversationToast: (name: string) => `New conversation with ${name}`,
  replyTo: "Reply to",
  notifications: "Turn on notifications",
  presence: "Presence",
  offline: "Offline",
  unread: (n: number) => `${n} unread`,
  onPage: (s: number) => (s < 60 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`),
  now: "now",
  // desk: offers and wrap-up (ACD)
  channelName: { chat: "Chat", email: "E-mail", callback: "Callback", voice: "Call" } as Record<TaskChannel, string>,
  offerTitle: (channel: TaskChannel, language: string | null) =>
    `${{ chat: "New chat", email: "New e-mail", callback: "New callback", voice: "New call" }[channel]}${language ? ` — ${language}` : ""}`,
  offerAnnounce: (channel: TaskChannel) =>
    `${{ chat: "New chat", email: "New e-mail", callback: "New callback", voice: "New call" }[channel]} offered`,
  accept: "Accept",
  reject: "Reject",
  waited: (d: string) => `waiting for ${d}`,
  timeLeft: (d: string) => `${d} left`,
  offerLapsed: "Offer lapsed",
  offerGone: "This offer is no longer available.",
  offerKeys: "Enter accepts, Escape rejects",
  screenPop: "Customer details",
  details: "Request",
  attributeNames: { language: "Language", page_url: "Page", page_title: "Page title", phone: "Phone", reason: "Reason" } as Record<string, string>,
  wrapUp: (left: string | null) => (left ? `Wrap-up — ${left} left` : "Wrap-up"),
  done: "Done",
  awayAfterMissed: "You were set to Away after an offer went unanswered.",
  // supervisor wallboard
  wallboardTitle: "Relais wallboard",
  supervisorsOnly: "Supervisors only: this page shows the whole contact centre. Log in with a supervisor's account.",
  waitingNow: "Waiting now",
  longestWait: "Longest wait",
  sl15: "Service level, last 15 min",
  slToday: "Service level today",
  slVersusGoal: (goal: number, target: number) => `goal ${goal} % in ${target} s`,
  slMet: "on goal",
  slNear: "near goal",
  slBelow: "below goal",
  asa: "Average speed of answer",
  aht: "Average handling time",
  offered: "Offered",
  answered: "Answered",
  abandoned: "Abandoned",
  abandonmentRate: "Abandoned %",
  busy: "Busy",
  occupancy: "Occupancy",
  agentsTitle: "Agents",
  dayChart: "Today per 15 minutes",
  dayChartSummary: (offered: number, answered: number) => `${offered} offered, ${answered} answered today`,
  serviceLevel: "Service level",
  staffing: (goal: number, target: number, needed: string, available: number) =>
    `Agents needed for ${goal} % in ${target} s at today's traffic: ${needed}, available now: ${available}`,
  agentName: "Name",
  tasks: "Tasks",
  presenceOf: (name: string) => `Presence of ${name}`,
  waitingTasks: "Waiting tasks",
  noWaitingTasks: "Nobody is waiting.",
  queue: "Queue",
  channel: "Channel",
  customer: "Customer",
  waitingFor: "Waiting for",
  state: "State",
  queuedState: "queued",
  offeredTo: (name: string) => `offered to ${name}`,
  moveToQueue: "Move to queue",
  moveTaskTo: (who: string) => `Move ${who} to queue`,
  updatedAt: (time: string) => `Updated at ${time}`,
  noQueues: "No queues yet.",
  allQueues: "All queues",
  openInCrm: "Open in CRM",
  slGoal: (goal: number) => `goal ${goal} %`,
  volumesDetail: (short: number, timedOut: number, transferred: number) =>
    `of which ${short} short abandons; ${timedOut} timed out, ${transferred} moved to another queue`,
};

export type Strings = typeof en;

const fr: Strings = {
  chatWithUs: "Discuter avec nous",
  close: "Fermer",
  title: "Service client",
  subtitleOnline: "Nous répondons en général en quelques minutes",
  subtitleOffline: "Personne n’est disponible pour le moment",
  placeholder: "Écrivez un message…",
  send: "Envoyer",
  attach: "Joindre un fichier",
  typing: (name: string) => `${name} écrit…`,
  someone: "Quelqu’un",
  seen: "Vu",
  sending: "Envoi…",
  failed: "Non envoyé.",
  retry: "Réessayer",
  you: "Vous",
  agent: "Conseiller",
  visitor: "Visiteur",
  reconnecting: "Reconnexion…",
  queuePlace: (place: number, minutes: number | null) =>
    (place === 1 ? "Vous êtes le prochain" : `Vous êtes ${place}e dans la file`) +
    (minutes === null ? "." : `, environ ${minutes <= 1 ? "une minute" : `${minutes} minutes`}.`),
  welcome: "Bonjour ! Comment pouvons-nous vous aider ?",
  offlineTitle: "Laissez-nous un message",
  offlineIntro: "Personne n’est disponible pour le moment. Laissez votre message et votre adresse e-mail : nous vous répondrons par e-mail.",
  name: "Votre nom",
  email: "Votre adresse e-mail",
  message: "Votre message",
  leaveMessage: "Envoyer le message",
  offlineThanks: "Merci ! Nous vous répondrons par e-mail.",
  resolved: "Cette conversation est terminée.",
  rateUs: "Comment s’est passée cette conversation ?",
  stars: (n: number) => `${n} sur 5`,
  thanksRating: "Merci pour votre note.",
  transcript: "Recevoir la transcription par e-mail",
  transcriptSent: "La transcription vous sera envoyée.",
  request: "Envoyer",
  newConversation: "Nouvelle conversation",
  language: "English",
  tooLong: (n: number) => `${n} caractères au plus`,
  uploading: "Envoi…",
  removeFiles: "retirer",
  dismiss: "Fermer",
  deskTitle: "Relais — poste agent",
  login: "Se connecter",
  password: "Mot de passe",
  logout: "Se déconnecter",
  available: "Disponible",
  away: "Absent",
  conversations: "Conversations",
  noConversations: "Aucune conversation. Les nouvelles apparaissent ici.",
  waiting: "En attente",
  resolve: "Terminer",
  pickConversation: "Choisissez une conversation à gauche.",
  contact: "Client",
  anonymous: "Visiteur anonyme",
  unverified: "non vérifié",
  currentPage: "Page actuelle",
  path: "Pages visitées",
  history: "Conversations précédentes",
  noHistory: "Aucune",
  newConversationToast: (name: string) => `Nouvelle conversation avec ${name}`,
  replyTo: "Répondre à",
  notifications: "Activer les notifications",
  presence: "Disponibilité",
  offline: "Hors ligne",
  unread: (n: number) => `${n} non lu${n > 1 ? "s" : ""}`,
  onPage: (s: number) => (s < 60 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`),
  now: "maintenant",
  channelName: { chat: "Chat", email: "E-mail", callback: "Rappel", voice: "Appel" },
  offerTitle: (channel: TaskChannel, language: string | null) =>
    `${{ chat: "Nouveau chat", email: "Nouvel e-mail", callback: "Nouveau rappel", voice: "Nouvel appel" }[channel]}${language ? ` — ${language}` : ""}`,
  offerAnnounce: (channel: TaskChannel) =>
    ({ chat: "Nouveau chat proposé", email: "Nouvel e-mail proposé", callback: "Nouveau rappel proposé", voice: "Nouvel appel proposé" })[channel],
  accept: "Accepter",
  reject: "Refuser",
  waited: (d: string) => `attend depuis ${d}`,
  timeLeft: (d: string) => `encore ${d}`,
  offerLapsed: "Proposition expirée",
  offerGone: "Cette proposition n’est plus disponible.",
  offerKeys: "Entrée accepte, Échap refuse",
  screenPop: "Fiche client",
  details: "Demande",
  attributeNames: { language: "Langue", page_url: "Page", page_title: "Titre de la page", phone: "Téléphone", reason: "Motif" },
  wrapUp: (left: string | null) => (left ? `Clôture — encore ${left}` : "Clôture"),
  done: "Terminé",
  awayAfterMissed: "Vous êtes passé(e) Absent(e) : une proposition est restée sans réponse.",
  wallboardTitle: "Relais — supervision",
  supervisorsOnly: "Réservé aux superviseurs : cette page montre tout le centre de contact. Connectez-vous avec un compte superviseur.",
  waitingNow: "En attente",
  longestWait: "Attente la plus longue",
  sl15: "Niveau de service, 15 dernières min",
  slToday: "Niveau de service du jour",
  slVersusGoal: (goal: number, target: number) => `objectif ${goal} % en ${target} s`,
  slMet: "objectif atteint",
  slNear: "proche de l’objectif",
  slBelow: "sous l’objectif",
  asa: "Délai moyen de réponse",
  aht: "Durée moyenne de traitement",
  offered: "Reçus",
  answered: "Traités",
  abandoned: "Abandonnés",
  abandonmentRate: "Abandons %",
  busy: "Occupé",
  occupancy: "Occupation",
  agentsTitle: "Conseillers",
  dayChart: "Aujourd’hui par quart d’heure",
  dayChartSummary: (offered: number, answered: number) => `${offered} reçus, ${answered} traités aujourd’hui`,
  serviceLevel: "Niveau de service",
  staffing: (goal: number, target: number, needed: string, available: number) =>
    `Conseillers nécessaires pour ${goal} % en ${target} s au trafic du jour : ${needed}, disponibles : ${available}`,
  agentName: "Nom",
  tasks: "Tâches",
  presenceOf: (name: string) => `Disponibilité de ${name}`,
  waitingTasks: "Demandes en attente",
  noWaitingTasks: "Personne n’attend.",
  queue: "File",
  channel: "Canal",
  customer: "Client",
  waitingFor: "Attend depuis",
  state: "État",
  queuedState: "en file",
  offeredTo: (name: string) => `proposée à ${name}`,
  moveToQueue: "Déplacer vers la file",
  moveTaskTo: (who: string) => `Déplacer ${who} vers la file`,
  updatedAt: (time: string) => `Mis à jour à ${time}`,
  noQueues: "Aucune file pour le moment.",
  allQueues: "Toutes les files",
  openInCrm: "Ouvrir dans le CRM",
  slGoal: (goal: number) => `objectif ${goal} %`,
  volumesDetail: (short: number, timedOut: number, transferred: number) =>
    `dont ${short} abandons courts ; ${timedOut} expirés, ${transferred} passés à une autre file`,
};

export type Lang = "en" | "fr";

function ordinalEn(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th";
  return `${n}${suffix}`;
}
const catalogues: Record<Lang, Strings> = { en, fr };

export function strings(lang: Lang): Strings {
  return catalogues[lang];
}

export function pageLang(): Lang {
  return document.documentElement.lang.toLowerCase().startsWith("fr") ? "fr" : "en";
}

/** A duration as a clock shows it: 0:25, 12:03, 1:02:03. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** A language code (fr, en-GB) by its name in the page's language ("French", "français"). */
export function languageName(code: string, lang: Lang): string {
  try {
    const name = new Intl.DisplayNames([lang], { type: "language" }).of(code);
    return name && name !== code ? name : code;
  } catch {
    // Not a language code Intl knows: shown as given.
    return code;
  }
}
