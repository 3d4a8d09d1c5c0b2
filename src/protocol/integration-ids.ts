import * as z from "zod";

/**
 * The ids of integrations that other wire types name (automation's triggers and actions). Apart
 * from integrations.ts, which imports events.ts: automation.ts, which events.ts imports for the
 * rule events, must not import it back (a cycle of modules whose schemas are built at load).
 */

export const WebhookId = z.string().regex(/^wh_[0-9a-f]{24}$/, "a webhook id is wh_ and 24 hex");

export const IncomingHookId = z
  .string()
  .regex(/^ih_[0-9a-f]{24}$/, "an incoming webhook id is ih_ and 24 hex");
