/**
 * What went wrong with the database, in words an operator can act on. The driver rejects with
 * a WebSocket ErrorEvent (not an Error) when the endpoint refuses, and drizzle wraps the real
 * reason as the `cause` of a "Failed query" error: the reason comes first here.
 */
export function describeDbError(error: unknown): string {
  if (error instanceof Error) {
    const query = error.message.split("\n")[0] ?? "";
    return error.cause === undefined ? error.message : `${describeDbError(error.cause)} (${query})`;
  }
  if (typeof error === "object" && error !== null) {
    if ("error" in error && error.error) return describeDbError(error.error);
    if ("message" in error && typeof error.message === "string" && error.message)
      return error.message;
    if ("type" in error && typeof error.type === "string")
      return `the connection to the database failed (WebSocket ${error.type})`;
  }
  return String(error);
}
