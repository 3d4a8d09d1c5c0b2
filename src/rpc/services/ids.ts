import { ApiError } from "../../protocol/index.ts";
import { seqFrom } from "../convert.ts";

/** A message id or seq from a request (uint64) as the contract's number, `bad_request` past 2⁵³. */
export function idOf(value: bigint, field = "message_id"): number {
  const id = seqFrom(value);
  if (id === undefined) throw new ApiError("bad_request", `${field}: no room has that many events`);
  return id;
}
