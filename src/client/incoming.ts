import * as z from "zod";
import { AnyEventFrame, ServerFrame } from "../protocol/index.ts";

/** A frame this client can read, or only the seq of an event of a kind it does not know yet. */
export type Incoming = { frame: ServerFrame } | { unknownEventSeq: number };

/** A batch frame's outer shape; its frames are read one by one like single frames. */
const BatchEnvelope = z.object({ type: z.literal("batch"), frames: z.array(z.unknown()) });

/**
 * What one WebSocket message carries, checked against the contract. A batch is read frame by
 * frame, so that one frame of a newer kind does not lose the rest; of a newer server's event
 * types only the seq is kept, or every later event would look out of order. Anything else
 * unreadable is ignored.
 */
export function readMessage(data: unknown): Incoming[] {
  if (typeof data !== "string") return [];
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return [];
  }
  const batch = BatchEnvelope.safeParse(json);
  return (batch.success ? batch.data.frames : [json]).flatMap(readFrame);
}

function readFrame(json: unknown): Incoming[] {
  const parsed = ServerFrame.safeParse(json);
  if (parsed.success) return [{ frame: parsed.data }];
  const event = AnyEventFrame.safeParse(json);
  return event.success ? [{ unknownEventSeq: event.data.event.seq }] : [];
}
