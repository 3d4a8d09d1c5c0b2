/** The wire contract of edgechat v1 (shared/PROTOCOL.md): one zod schema per wire type. */
export * from "./names.ts";
export * from "./errors.ts";
export * from "./events.ts";
export * from "./frames.ts";
export * from "./http.ts";
export * from "./permissions.ts";
