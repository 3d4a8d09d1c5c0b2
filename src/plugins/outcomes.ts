import * as z from "zod";
import { Emoji, MessageText, Seq } from "../protocol/names.ts";
import type { CommandReply, PluginAction, Verdict } from "./api.ts";
import type { SandboxResult } from "./sandbox/contract.ts";
import { LIMIT_ERROR_NAME } from "./sandbox/names.ts";

/**
 * What became of one hook call (docs/plugins.md, "Outcomes"), from what the sandbox answered or
 * failed to: pure, so that the runner only races the clock. A plugin's answer is untrusted
 * input: it is checked here as strictly as a client's command would be.
 */

export type Failure = "refused-by-limit" | "timeout" | "threw";

export type Outcome<T> =
  | { outcome: "ok"; value: T; ms: number }
  | { outcome: Failure; message: string; ms: number }
  /** Not called: it failed too often in a row here lately (strikes.ts). */
  | { outcome: "suspended"; message: string; until: number; ms: 0 };

/** How a call ended, as the runner saw it. */
export type Settled =
  | { kind: "answered"; result: SandboxResult }
  | { kind: "rejected"; error: unknown }
  | { kind: "timeout"; budgetMs: number };

/** At most this many actions from one hook call. */
export const MAX_ACTIONS = 5;

const ReasonText = z.string().trim().min(1).max(500);

export const VerdictAnswer: z.ZodType<Verdict> = z.union([
  z.object({ allow: z.literal(true) }),
  z.object({ refuse: ReasonText }),
  z.object({ rewrite: MessageText }),
]);

export const ActionAnswer: z.ZodType<PluginAction> = z.union([
  z.object({ post: MessageText, replyTo: Seq.optional() }),
  z.object({ edit: Seq, text: MessageText }),
  z.object({ react: Seq, emoji: Emoji }),
]);

/** afterEvent's and a job's answer: actions, or nothing (`undefined` arrives as null). */
export const ActionsAnswer: z.ZodType<PluginAction[], unknown> = z
  .array(ActionAnswer)
  .max(MAX_ACTIONS)
  .nullable()
  .transform((actions) => actions ?? []);

export const CommandAnswer: z.ZodType<CommandReply> = z.object({
  text: MessageText.optional(),
  visibility: z.enum(["ephemeral", "in_channel"]).optional(),
  actions: z.array(ActionAnswer).max(MAX_ACTIONS).optional(),
});

const MESSAGE_CHARS = 500;

/** workerd's words when it cancels a request that can never finish. */
const HUNG = /detected that your Worker's code had hung/;

export function outcomeOf<T>(
  settled: Settled,
  answer: z.ZodType<T, unknown>,
  ms: number,
): Outcome<T> {
  switch (settled.kind) {
    case "timeout":
      return { outcome: "timeout", message: `no answer within ${settled.budgetMs} ms`, ms };
    case "rejected": {
      // The sandbox never throws: this is its isolate failing (its module did not load, it
      // was torn down), which a limit hit while the module loaded can be the cause of, or
      // workerd cancelling a call that waits on nothing that could ever wake it.
      const message = clip(messageOf(settled.error));
      if (HUNG.test(message)) return { outcome: "timeout", message, ms };
      return {
        outcome: message.includes(LIMIT_ERROR_NAME) ? "refused-by-limit" : "threw",
        message,
        ms,
      };
    }
    case "answered": {
      const { result } = settled;
      if (!result.ok) {
        return {
          outcome: result.limit ? "refused-by-limit" : "threw",
          message: clip(result.message),
          ms,
        };
      }
      const parsed = answer.safeParse(result.value);
      if (parsed.success) return { outcome: "ok", value: parsed.data, ms };
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
      return {
        outcome: "threw",
        message: clip(`answered with something invalid${where}: ${issue?.message}`),
        ms,
      };
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One line (workerd's load errors span several), at most MESSAGE_CHARS. */
const clip = (raw: string) => {
  const text = raw.replace(/\s+/g, " ").trim();
  return text.length > MESSAGE_CHARS ? `${text.slice(0, MESSAGE_CHARS - 1)}…` : text;
};
