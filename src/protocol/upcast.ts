import type { EventType } from "./events.ts";

/**
 * Versioned events (docs/audit.md, "Versioned events"). Every event type's `data` has a version;
 * storage keeps each event in the version it was written in, and reading upcasts it to the
 * current shape by the pure steps below, one version at a time. The log is never rewritten for a
 * new shape: its hashes cover what was written.
 *
 * A change bumps the version when old data would not parse as the new shape or would mean
 * something else; an optional field added (as `undoes`/`redoes` were) does not.
 */
export const EVENT_VERSION = {
  "room.created": 2,
  "room.topic_changed": 1,
  "room.slow_mode_changed": 1,
  "room.ownership_transferred": 1,
  "member.joined": 1,
  "member.left": 1,
  "member.invited": 1,
  "member.role_changed": 1,
  "member.kicked": 1,
  "member.banned": 1,
  "member.unbanned": 1,
  "member.muted": 1,
  "member.unmuted": 1,
  "message.posted": 1,
  "message.edited": 1,
  "message.deleted": 1,
  "message.restored": 1,
  "message.redacted": 1,
  "reaction.added": 1,
  "reaction.removed": 1,
  "rule.saved": 1,
  "rule.deleted": 1,
  "plugin.enabled": 1,
  "plugin.disabled": 1,
  "message.transcribed": 1,
} as const satisfies Record<EventType, number>;

type Data = Record<string, unknown>;
/** One step: the data of version `n` as version `n + 1`. */
type Step = (data: Data) => Data;

/** For each type, the step out of each old version. */
const STEPS: { readonly [T in EventType]?: Readonly<Record<number, Step>> } = {
  "room.created": {
    // Version 1 left `shards` out for a room without fan-out shards (and before shards existed).
    1: (data) => ({ ...data, shards: typeof data.shards === "number" ? data.shards : 0 }),
  },
};

/** Why stored data cannot be read as the current version. */
export class UpcastError extends Error {}

const isEventType = (type: string): type is EventType => Object.hasOwn(EVENT_VERSION, type);

/**
 * `data` stored as `version` of `type`, as the current version. Unknown types and versions from
 * the future are errors: storage is read, never trusted.
 * @example upcast("room.created", 1, { name: "a", topic: "", visibility: "public" }) // {..., shards: 0}
 */
export function upcast(type: string, version: number, data: unknown): unknown {
  if (!isEventType(type)) throw new UpcastError(`unknown event type ${JSON.stringify(type)}`);
  const current: number = EVENT_VERSION[type];
  if (!Number.isInteger(version) || version < 1 || version > current)
    throw new UpcastError(`${type} has no version ${version} (current: ${current})`);
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw new UpcastError(`${type} data is not an object`);
  let shaped = data as Data;
  for (let v = version; v < current; v++) {
    const step = STEPS[type]?.[v];
    if (!step) throw new UpcastError(`${type} has no step from version ${v}`);
    shaped = step(shaped);
  }
  return shaped;
}
