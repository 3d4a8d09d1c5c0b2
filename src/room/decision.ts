import type { NewEvent, Refusal } from "../protocol/index.ts";

/** The outcome of a command: events to log (none for a no-op), or a refusal. */
export type Decision = { ok: true; events: NewEvent[] } | { ok: false; error: Refusal };

export const accept = (...events: NewEvent[]): Decision => ({ ok: true, events });
export const refuse = (code: Refusal["code"], message: string): Decision => ({
  ok: false,
  error: { code, message },
});
