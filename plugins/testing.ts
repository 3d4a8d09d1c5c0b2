import type {
  CommandCall,
  CommandReply,
  Person,
  PluginContext,
  PluginDefinition,
  PluginEvent,
  Store,
} from "../src/plugins/api.ts";

/**
 * What the example plugins' tests run them against: a real key-value store in memory with the
 * semantics of the sandbox's (values go through JSON, so a plugin that keeps a reference to what
 * it stored, or stores something JSON cannot carry, fails here as it would there), and helpers
 * that call a definition's hooks the way the room does.
 */
export class MemoryStore implements Store {
  readonly #entries = new Map<string, string>();

  async get<T = unknown>(key: string): Promise<T | null> {
    const json = this.#entries.get(key);
    return json === undefined ? null : (JSON.parse(json) as T);
  }

  async put(key: string, value: unknown): Promise<void> {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`the value of ${key} is not JSON`);
    this.#entries.set(key, json);
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async list<T = unknown>(prefix = ""): Promise<{ key: string; value: T }[]> {
    return [...this.#entries.keys()]
      .filter((key) => key.startsWith(prefix))
      .sort()
      .map((key) => ({ key, value: JSON.parse(this.#entries.get(key)!) as T }));
  }

  /** How many keys it holds: for tests that check a plugin cleans up. */
  get size(): number {
    return this.#entries.size;
  }
}

export const person = (name: string): Person => ({ id: `u_${name}`, name });

/** A room's context: its own store, and the real global fetch unless a test hands another. */
export function contextFor(room = "lobby", fetchImpl: typeof fetch = fetch): PluginContext {
  return { room, store: new MemoryStore(), fetch: fetchImpl };
}

/** Runs one of the definition's slash commands as `user` typed it. */
export async function runCommand(
  plugin: PluginDefinition,
  ctx: PluginContext,
  line: { command: string; args: string; user: Person; rank?: CommandCall["rank"] },
): Promise<CommandReply> {
  const command = plugin.commands?.[line.command];
  if (!command) throw new Error(`${plugin.id} has no command /${line.command}`);
  return command.run({ ...line, room: ctx.room }, ctx);
}

let nextSeq = 1;
/** A committed event with the next seq of this test process. */
export function eventOf(
  type: string,
  author: Person,
  data: Record<string, unknown>,
  seq = nextSeq++,
): PluginEvent {
  return { seq, type, at: Date.now(), author, data };
}
