/**
 * Strikes (docs/plugins.md, "Outcomes"): a plugin whose calls fail `failuresInARow` times in a
 * row in a room is not called there for a while, so that a broken plugin costs the room its
 * budget a few times, not on every message. The pause doubles with each suspension in a row and
 * ends at `longestMs`; one call that goes well forgives everything. Kept in the room's memory:
 * an evicted room forgives too.
 */
export const STRIKES = {
  failuresInARow: 3,
  firstSuspensionMs: 60_000,
  longestMs: 30 * 60_000,
} as const;

export type Strikes = { failures: number; suspensions: number; suspendedUntil: number };

export const NO_STRIKES: Strikes = { failures: 0, suspensions: 0, suspendedUntil: 0 };

export function afterCall(strikes: Strikes, ok: boolean, now: number): Strikes {
  if (ok) return NO_STRIKES;
  const failures = strikes.failures + 1;
  if (failures < STRIKES.failuresInARow) return { ...strikes, failures };
  const pause = Math.min(STRIKES.firstSuspensionMs * 2 ** strikes.suspensions, STRIKES.longestMs);
  return { failures: 0, suspensions: strikes.suspensions + 1, suspendedUntil: now + pause };
}

export const isSuspended = (strikes: Strikes, now: number) => now < strikes.suspendedUntil;
