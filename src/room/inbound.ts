import { ClientFrame, LIMITS, type ErrorCode } from "../protocol/index.ts";

export type Inbound =
  | { ok: true; frame: ClientFrame }
  | { ok: false; code: ErrorCode; message: string; clientId?: string };

/**
 * Parses one WebSocket frame against the contract. Pure: every malformed, oversized or unknown
 * frame becomes an error to send back, never an exception.
 * @example parseFrame('{"type":"ping"}') // { ok: true, frame: { type: "ping" } }
 */
export function parseFrame(data: string | ArrayBuffer): Inbound {
  if (typeof data !== "string")
    return { ok: false, code: "bad_request", message: "frames are JSON text, not binary" };
  if (tooLarge(data))
    return {
      ok: false,
      code: "too_large",
      message: `a frame is at most ${LIMITS.frameBytes} bytes`,
    };
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { ok: false, code: "bad_request", message: "a frame is one JSON object" };
  }
  const parsed = ClientFrame.safeParse(json);
  if (parsed.success) return { ok: true, frame: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  return {
    ok: false,
    code: "bad_request",
    message: `${where}${issue?.message ?? "invalid frame"}`,
    ...clientIdOf(json),
  };
}

/**
 * The clientId of a frame refused before parsing (rate limit), so that the sender can match the
 * error to its pending command. Oversized, binary and malformed frames have none.
 */
export function clientIdOfFrame(data: string | ArrayBuffer): { clientId?: string } {
  if (typeof data !== "string" || tooLarge(data)) return {};
  try {
    return clientIdOf(JSON.parse(data));
  } catch {
    return {};
  }
}

/** The clientId of a refused command, so that the sender can match the error to it. */
function clientIdOf(json: unknown): { clientId?: string } {
  if (typeof json !== "object" || json === null || !("clientId" in json)) return {};
  const clientId = json.clientId;
  return typeof clientId === "string" &&
    clientId.length > 0 &&
    clientId.length <= LIMITS.clientIdChars
    ? { clientId }
    : {};
}

const encoder = new TextEncoder();
/** Whether a text frame exceeds the contract's 64 KiB, counting UTF-8 bytes only when it could. */
function tooLarge(text: string): boolean {
  if (text.length * 3 <= LIMITS.frameBytes) return false;
  return text.length > LIMITS.frameBytes || encoder.encode(text).byteLength > LIMITS.frameBytes;
}
