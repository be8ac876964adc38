// How the wallboard writes its figures. Rates come as fractions (0–1), durations in seconds;
// any of them may be null before there is data: shown as a dash, never as 0.

import { clock } from "../../shared/i18n.js";

export const DASH = "—";

/** Service level against its goal: met (≥ goal), near (within 5 points below), below. */
export type SlStatus = "met" | "near" | "below";

export function slStatus(level: number | null, goal: number): SlStatus | null {
  if (level === null || !Number.isFinite(level)) return null;
  // Compared in whole points, as shown, so that "80 %" never reads as below an 80 % goal.
  const points = Math.round(level * 100);
  const goalPoints = Math.round(goal * 100);
  if (points >= goalPoints) return "met";
  return points >= goalPoints - 5 ? "near" : "below";
}

export function percent(rate: number | null): string {
  return rate === null || !Number.isFinite(rate) ? DASH : `${Math.round(rate * 100)} %`;
}

export function duration(seconds: number | null): string {
  return seconds === null || !Number.isFinite(seconds) ? DASH : clock(seconds);
}

export function count(n: number | null): string {
  return n === null || !Number.isFinite(n) ? DASH : String(n);
}

/** A local time of day, HH:MM on a 24-hour clock (short, and alike in both languages). */
export function timeOfDay(iso: string | number, lang: string): string {
  return new Date(iso).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}
