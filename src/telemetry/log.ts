/**
 * Structured logs: one JSON object per line on the console, which Workers Logs, `wrangler tail`
 * and any log shipper read as fields. Never a secret or a message's text: fields whose names say
 * they hold one are dropped by name, and strings shaped like a token or an API key are masked
 * wherever they appear (an error's message, a URL), so a careless caller cannot leak one.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Field names whose values are never logged: credentials, and what users wrote. */
const SECRET_FIELD =
  /pass(word|phrase)?|secret|token|authorization|cookie|api[-_]?key|credential|^key$|^text$|^body$|^topic$|^reason$/i;

// A JWT (three base64url parts, the first a JSON header), an API key (docs/service-keys.md), a
// bearer credential, and the password in a connection string.
const SECRET_TEXT: readonly RegExp[] = [
  /eyJ[\w-]+\.[\w-]+\.[\w-]*/g,
  /ecsk_[\w-]+/g,
  /\b(Bearer|Basic)\s+[\w.~+/=-]+/gi,
  /(\/\/[^:/@\s]+:)[^@\s]+@/g,
];
export const REDACTED = "[redacted]";

/** `text` with anything shaped like a credential masked. */
export function maskSecrets(text: string): string {
  return SECRET_TEXT.reduce(
    (masked, pattern) =>
      masked.replace(pattern, (_match, prefix: unknown) =>
        typeof prefix === "string" && prefix.startsWith("//") ? `${prefix}${REDACTED}@` : REDACTED,
      ),
    text,
  );
}

/** The fields as they may be logged: secret names dropped, secret-shaped strings masked. */
export function redact(fields: LogFields, depth = 0): LogFields {
  const safe: LogFields = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    safe[name] = SECRET_FIELD.test(name) ? REDACTED : redactValue(value, depth);
  }
  return safe;
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === "string") return maskSecrets(value);
  if (value instanceof Error) return errorFields(value);
  if (typeof value !== "object" || value === null) return value;
  if (depth >= 3) return "[nested]";
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  return redact(value as LogFields, depth + 1);
}

/** An error as log fields: its name, message and stack (masked), and its cause's message. */
export function errorFields(error: unknown): LogFields {
  if (!(error instanceof Error)) return { name: "NonError", message: maskSecrets(String(error)) };
  const cause = error.cause instanceof Error ? maskSecrets(error.cause.message) : undefined;
  return {
    name: error.name,
    message: maskSecrets(error.message),
    stack: error.stack && maskSecrets(error.stack),
    ...(cause === undefined ? {} : { cause }),
  };
}

/** One log line: level, time and msg first, then the fields, redacted. */
export function formatLine(level: LogLevel, msg: string, fields: LogFields, now: Date): string {
  return JSON.stringify({
    level,
    time: now.toISOString(),
    msg: maskSecrets(msg),
    ...redact(fields),
  });
}

/** Whether a line at `level` passes the configured `threshold`. */
export const enabled = (level: LogLevel, threshold: LogLevel): boolean =>
  RANK[level] >= RANK[threshold];

// One level per isolate: every object and request of a deployment reads the same LOG_LEVEL,
// set by `useLogLevel` as the worker's middleware and the objects start.
let threshold: LogLevel = "info";

/** Sets the least level logged (LOG_LEVEL). */
export function useLogLevel(level: LogLevel): void {
  threshold = level;
}

function write(level: LogLevel, msg: string, fields: LogFields = {}): void {
  if (!enabled(level, threshold)) return;
  const line = formatLine(level, msg, fields, new Date());
  // The console method carries the level for Workers Logs; the line carries it for the rest.
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else if (level === "debug") console.debug(line);
  else console.log(line);
}

/** The logger: `log.warn("directory update failed, will retry", { error })`. */
export const log = {
  debug: (msg: string, fields?: LogFields) => write("debug", msg, fields),
  info: (msg: string, fields?: LogFields) => write("info", msg, fields),
  warn: (msg: string, fields?: LogFields) => write("warn", msg, fields),
  error: (msg: string, fields?: LogFields) => write("error", msg, fields),
};
