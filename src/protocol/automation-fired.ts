import type { Trigger } from "./automation.ts";
import type { RoomEvent } from "./events.ts";

// Apart from automation.ts, which events.ts imports for the rule events: a type of automation's
// that names RoomEvent would close a cycle of modules (docs/architecture.md: none allowed).

/**
 * The body an outgoing webhook receives for a rule's `webhook` action, shaped as the room's
 * events are (docs/automation.md).
 */
export type AutomationFired = {
  type: "automation.fired";
  /** When the cause happened (ISO 8601): the event's time, or the schedule's due time. */
  timestamp: string;
  data: {
    room: string;
    rule: { id: string; name: string };
    trigger: Trigger["on"];
    /** The triggering event, for event triggers. */
    event?: RoomEvent;
    /** The due time (ms), for schedule and time triggers. */
    dueAt?: number;
  };
};
