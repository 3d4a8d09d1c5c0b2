import type { Store } from "../../src/plugins/api.ts";
import type { Poll } from "./poll.ts";

/**
 * The room's polls in the plugin's store: `poll:<id>` the poll, `message:<seq>` which poll a
 * message is, `polls` the ids, oldest first. The newest KEPT_POLLS are kept; older ones are
 * forgotten, and reactions on their messages no longer count.
 */
export const KEPT_POLLS = 20;

const pollKey = (id: string) => `poll:${id}`;
const messageKey = (seq: number) => `message:${seq}`;

export const getPoll = (store: Store, id: string) => store.get<Poll>(pollKey(id));
export const savePoll = (store: Store, poll: Poll) => store.put(pollKey(poll.id), poll);

export async function pollOfMessage(store: Store, seq: number): Promise<Poll | null> {
  const id = await store.get<string>(messageKey(seq));
  return id === null ? null : getPoll(store, id);
}

export async function bindMessage(store: Store, poll: Poll, seq: number): Promise<void> {
  await savePoll(store, { ...poll, messageId: seq });
  await store.put(messageKey(seq), poll.id);
}

export async function addPoll(store: Store, poll: Poll): Promise<void> {
  await savePoll(store, poll);
  const ids = [...((await store.get<string[]>("polls")) ?? []), poll.id];
  for (const old of ids.splice(0, Math.max(0, ids.length - KEPT_POLLS))) await forget(store, old);
  await store.put("polls", ids);
}

async function forget(store: Store, id: string): Promise<void> {
  const poll = await getPoll(store, id);
  if (poll?.messageId != null) await store.delete(messageKey(poll.messageId));
  await store.delete(pollKey(id));
}

/** The newest poll still open, or null. */
export async function newestOpenPoll(store: Store): Promise<Poll | null> {
  const ids = (await store.get<string[]>("polls")) ?? [];
  for (const id of ids.toReversed()) {
    const poll = await getPoll(store, id);
    if (poll?.open) return poll;
  }
  return null;
}

/**
 * Runs store updates one after another. The plugin's isolate serves one room, so this keeps two
 * reactions that arrive together from each reading the poll before the other wrote it.
 */
let queue: Promise<unknown> = Promise.resolve();
export function serialized<T>(update: () => Promise<T>): Promise<T> {
  const run = queue.then(update, update);
  queue = run.catch(() => undefined);
  return run;
}
