import type { Person } from "../../src/plugins/api.ts";

/**
 * A poll and its votes, pure: how a reaction counts, and the text of the poll's message.
 * `voters[i]` holds the ids of the people who reacted with option i's number, each once; a person
 * may vote for several options, as reactions allow.
 */
export type Poll = {
  /** 8 hex digits, random: the marker by which the poll finds its own message. */
  id: string;
  question: string;
  options: string[];
  voters: string[][];
  open: boolean;
  /** The seq of the poll's message, once its `message.posted` came by. */
  messageId: number | null;
  by: Person;
  createdAt: number;
};

/** The numbered keycap emojis, 1️⃣ to 🔟: option i is voted with KEYCAPS[i]. */
export const KEYCAPS = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟"];

/**
 * The option an emoji votes for, or null. A keycap typed without its variation selector
 * (`1` U+20E3) counts as the emoji (`1` U+FE0F U+20E3).
 */
export function optionOf(emoji: string, poll: Poll): number | null {
  const canonical = emoji.replace(/\uFE0F/gu, "").replace(/^([0-9])\u20E3$/u, "$1\uFE0F\u20E3");
  const index = KEYCAPS.indexOf(canonical);
  return index >= 0 && index < poll.options.length ? index : null;
}

export function newPoll(
  id: string,
  question: string,
  options: string[],
  by: Person,
  at: number,
): Poll {
  return {
    id,
    question,
    options,
    voters: options.map(() => []),
    open: true,
    messageId: null,
    by,
    createdAt: at,
  };
}

/** The poll after a reaction was added or removed; the same poll when the vote changes nothing. */
export function withVote(poll: Poll, option: number, voter: string, added: boolean): Poll {
  const current = poll.voters[option] ?? [];
  const has = current.includes(voter);
  if (has === added) return poll;
  const next = added ? [...current, voter] : current.filter((id) => id !== voter);
  return { ...poll, voters: poll.voters.map((ids, i) => (i === option ? next : ids)) };
}

const BAR_CELLS = 10;
/** Ten cells filled in proportion to the option's share of all votes. */
function bar(count: number, total: number): string {
  const filled = total === 0 ? 0 : Math.round((count / total) * BAR_CELLS);
  return "█".repeat(filled) + "░".repeat(BAR_CELLS - filled);
}

/** The marker on the poll's last line, which its `message.posted` is recognized by. */
export const MARKER = /· poll #([0-9a-f]{8})$/mu;

export function renderPoll(poll: Poll): string {
  const counts = poll.voters.map((ids) => ids.length);
  const total = counts.reduce((sum, n) => sum + n, 0);
  const people = new Set(poll.voters.flat()).size;
  const lines = poll.options.map((option, i) => {
    const share = total === 0 ? 0 : Math.round((counts[i]! / total) * 100);
    return `${KEYCAPS[i]} ${option}\n${bar(counts[i]!, total)} ${counts[i]} (${share}%)`;
  });
  const votes = `${total} ${total === 1 ? "vote" : "votes"} from ${people} ${people === 1 ? "person" : "people"}`;
  const status = poll.open
    ? `react with ${KEYCAPS[0]}–${KEYCAPS[poll.options.length - 1]} to vote, on as many options as you like`
    : "closed";
  return [`📊 ${poll.question}`, ...lines, `${votes} · ${status} · poll #${poll.id}`].join("\n");
}

/** The closing line: the option or options with the most votes. */
export function summary(poll: Poll): string {
  const counts = poll.voters.map((ids) => ids.length);
  const most = Math.max(...counts);
  if (most === 0) return `📊 Poll closed: ${poll.question} (no votes)`;
  const winners = poll.options.filter((_, i) => counts[i] === most);
  const votes = `${most} ${most === 1 ? "vote" : "votes"}`;
  return winners.length === 1
    ? `📊 Poll closed: ${poll.question} ${winners[0]} wins with ${votes}.`
    : `📊 Poll closed: ${poll.question} A tie at ${votes}: ${winners.join(", ")}.`;
}
