/** A key's attempts: the current window, and how often it has been blocked in a row. */
export type Strikes = {
  window_start: number;
  count: number;
  blocked_until: number;
  blocks: number;
};

const MAX_BLOCK_MS = 60 * 60 * 1000;

/**
 * One attempt at `now`: allowed while the window's count stays within `limit`; past it the key
 * is blocked for a window; if it goes over again in the window after a block, for two windows,
 * then four … (at most an hour). A window that passes without a block forgives the history. Pure.
 */
export function nextBlock(
  previous: Strikes | undefined,
  now: number,
  limit: number,
  windowMs: number,
): { state: Strikes; waitSeconds: number } {
  let state: Strikes = previous ?? { window_start: now, count: 0, blocked_until: 0, blocks: 0 };
  // While blocked, nothing is counted and nothing is tried: brute force gets no free guess.
  if (now < state.blocked_until) return { state, waitSeconds: seconds(state.blocked_until - now) };
  if (now - state.window_start >= windowMs) {
    const quiet = state.blocked_until === 0 || now - state.blocked_until >= windowMs;
    state = { window_start: now, count: 0, blocked_until: 0, blocks: quiet ? 0 : state.blocks };
  }
  if (state.count < limit) return { state: { ...state, count: state.count + 1 }, waitSeconds: 0 };
  const blocks = state.blocks + 1;
  const blockedUntil = now + Math.min(MAX_BLOCK_MS, windowMs * 2 ** (blocks - 1));
  return {
    state: { ...state, blocks, blocked_until: blockedUntil },
    waitSeconds: seconds(blockedUntil - now),
  };
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
