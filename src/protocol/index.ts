/** The wire contract of edgechat v1 (docs/protocol.md): one zod schema per wire type, and who may do what. */
export * from "./names.ts";
export * from "./errors.ts";
export * from "./events.ts";
export * from "./frames.ts";
export * from "./http.ts";
export * from "./permissions.ts";
export * from "./rates.ts";
export * from "./chain.ts";
export * from "./upcast.ts";
export * from "./audit-log.ts";
export * from "./service-accounts.ts";
export * from "./observability.ts";
export * from "./admin-users.ts";
export * from "./integrations.ts";
export * from "./slash-commands.ts";
export * from "./slack.ts";
export * from "./plugins.ts";
