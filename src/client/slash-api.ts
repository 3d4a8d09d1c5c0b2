import {
  CustomSlashCommand,
  CustomSlashCommandList,
  IssuedSlashCommand,
  SlashCommandEntries,
  SlashResult,
  type CreateSlashCommand,
  type UpdateSlashCommand,
} from "../protocol/index.ts";
import type { ApiRequests } from "./requests.ts";

/**
 * Slash commands (docs/integrations.md): running one, the list for completion, and the room
 * owner's custom commands.
 * @example const result = await api.slash.run("ops", "/deploy status");
 */
export class SlashApi {
  readonly #requests: ApiRequests;
  constructor(requests: ApiRequests) {
    this.#requests = requests;
  }

  /**
   * Runs `text` (`/topic hello`, `/deploy status`) in `room`. Pass the same `clientId` to retry
   * without running it twice; `timeZone` (IANA, the browser's) reads the times `/remind` is
   * given, UTC without it. Resolves with what it did; a refusal throws the contract's ApiError.
   */
  run(room: string, text: string, clientId: string = crypto.randomUUID(), timeZone?: string) {
    const body = timeZone === undefined ? { text, clientId } : { text, clientId, timeZone };
    return this.#requests.call(SlashResult, "POST", `${base(room)}/slash`, body);
  }

  /** The built-ins you may use in `room` and its custom commands, for completion. */
  commands(room: string) {
    return this.#requests.call(SlashCommandEntries, "GET", `${base(room)}/slash-commands`);
  }

  /** The room's custom commands (its owner and admins). */
  custom(room: string) {
    return this.#requests.call(CustomSlashCommandList, "GET", custom(room));
  }

  /** Adds one; the answer holds its signing secret and verification token, this once. */
  create(room: string, command: Partial<CreateSlashCommand> & { name: string; url: string }) {
    return this.#requests.call(IssuedSlashCommand, "POST", custom(room), command);
  }

  update(room: string, name: string, patch: UpdateSlashCommand) {
    return this.#requests.call(CustomSlashCommand, "PATCH", one(room, name), patch);
  }

  remove(room: string, name: string) {
    return this.#requests.call(CustomSlashCommand, "DELETE", one(room, name));
  }
}

const base = (room: string) => `/api/rooms/${encodeURIComponent(room)}`;
const custom = (room: string) => `${base(room)}/slash-commands/custom`;
const one = (room: string, name: string) => `${custom(room)}/${encodeURIComponent(name)}`;
