/** The edgechat client SDK, for browsers and Node alike. */
export {
  RoomConnection,
  type ConnectionEvents,
  type ConnectionOptions,
  type ConnectionStatus,
} from "./connection.ts";
export { EdgechatApi, type CommandFrame } from "./http.ts";
export { AdminApi } from "./admin-api.ts";
export { SlashApi } from "./slash-api.ts";
export { RemindersApi } from "./reminders-api.ts";
export { WebhooksApi } from "./webhooks-api.ts";
export { RulesApi } from "./rules-api.ts";
export * from "../protocol/rules.ts";
export { InstanceRulesApi } from "./instance-rules-api.ts";
export * from "../protocol/instance-rules.ts";
export { Rule, RuleId, RuleInput } from "../protocol/automation.ts";
export { IncomingWebhooksApi } from "./incoming-webhooks-api.ts";
export { BotsApi } from "./bots-api.ts";
export { AdminPluginsApi, RoomPluginsApi } from "./plugins-api.ts";
export { ServiceAccountsApi } from "./service-accounts-api.ts";
export { UploadsApi, type UploadOptions, type UploadProgress } from "./uploads-api.ts";
export {
  afterFailure,
  allReceived,
  bytesStored,
  isPassing,
  partsToSend,
  planParts,
  type PartSlice,
} from "./upload-plan.ts";
export * from "./graphql/index.ts";
export { CommandError, Outbox } from "./outbox.ts";
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.ts";
export * from "../protocol/index.ts";
// Automation's wire types (src/protocol/automation.ts); its `Action` is a rule's action, named
// `RuleAction` here beside the permissions' `Action`.
export {
  Action as RuleAction,
  Conditions,
  DryRunHit,
  DryRunReport,
  LIMITS_AUTOMATION,
  PluginCommandName,
  PluginId,
  PluginManifest,
  PluginVersion,
  Reminder,
  ReminderId,
  RoomPluginState,
  TimeWindow,
  TimeZone,
  Trigger,
} from "../protocol/automation.ts";
