import type { Actor } from "../identity/actor.ts";
import type { Command, Result } from "../protocol/index.ts";
import { parseConfig, requireConfig, roomConfig } from "../config.ts";
import { INSTANCE_HUB, roomHub } from "../integrations/queue-messages.ts";
import { pluginCode, registryOf } from "../plugins/registry-object.ts";
import { PluginRunner, type SandboxExports } from "../plugins/runner.ts";
import type { Audience } from "./audience.ts";
import { RoomAutomation } from "./automation.ts";
import { Clock } from "./clock.ts";
import type { IdempotencyKeys } from "./idempotency.ts";
import { InstanceRuleCache } from "./instance-rules.ts";
import type { EventLog } from "./log.ts";
import { RoomPlugins } from "./plugins.ts";
import type { ReadModel } from "./read-model.ts";
import { Reminders } from "./reminders.ts";
import type { Schedule } from "./schedule.ts";

/**
 * How a room's automation is put together (docs/automation.md, docs/plugins.md), for parts.ts:
 * its plugins first, since the command flow screens every command through them, then its
 * reminders, rules and the clock that fires them and the plugins' jobs.
 */

type Submit = (command: Command, actor: Actor) => Promise<Result<{ seq: number }>>;

/** The room's plugins, run by a runner made at first use (a room's name is known only once it exists). */
export function roomPlugins(
  ctx: DurableObjectState,
  env: Env,
  deps: {
    read: ReadModel;
    roomName: () => string;
    submit: Submit;
    keys: IdempotencyKeys;
    keepAlive: (work: Promise<unknown>) => void;
    /** The clock's times changed (a job's next run). */
    changed: () => void;
  },
): RoomPlugins {
  const { read, roomName, submit, keys, keepAlive, changed } = deps;
  let runner: PluginRunner | undefined;
  return new RoomPlugins({
    runner: () =>
      (runner ??= new PluginRunner({
        loader: env.LOADER,
        exports: ctx.exports as unknown as SandboxExports,
        room: roomName(),
        code: pluginCode(env),
      })),
    read,
    storage: ctx.storage,
    roomName,
    active: () => registryOf(env).active(),
    submit,
    made: (actorId, clientId) => keys.find(actorId, clientId, Date.now()),
    keepAlive,
    changed,
  });
}

/** The room's reminders, its rules at work (its own and the instance's) and its clock. */
export function assembleAutomation(
  ctx: DurableObjectState,
  env: Env,
  deps: {
    read: ReadModel;
    log: EventLog;
    roomName: () => string;
    audience: Audience;
    schedule: Schedule;
    submit: Submit;
    plugins: RoomPlugins;
    keepAlive: (work: Promise<unknown>) => void;
  },
) {
  const { read, log, roomName, audience, schedule, submit, plugins, keepAlive } = deps;
  const reminders = new Reminders({
    storage: ctx.storage,
    view: () => read.view(),
    roomName,
    online: (userId) => audience.online().some((user) => user.id === userId),
    tell: (userId, frame) => void audience.tell(userId, frame),
    submit,
    changed: () => clock.changed(),
  });
  const instanceRules: InstanceRuleCache = new InstanceRuleCache(
    (since) => env.INTEGRATIONS_HUB.getByName(INSTANCE_HUB).instanceRules(since),
    {
      room: () => read.room()?.name,
      keepAlive,
      changed: () => automation.syncClock(Date.now()),
      ttlMs: roomConfig(env).INSTANCE_RULES_TTL_MS,
    },
  );
  const automation: RoomAutomation = new RoomAutomation({
    storage: ctx.storage,
    read,
    log,
    roomName,
    admins: parseConfig(env).ok ? requireConfig(env).ADMIN_USERNAMES : [],
    submit,
    webhook: ({ instance, ...fired }) => {
      const hub = instance ? INSTANCE_HUB : roomHub(roomName());
      return env.INTEGRATIONS_HUB.getByName(hub).automationFired(hub, roomName(), fired);
    },
    plugin: async (step, actor) => {
      const moderator = { role: "moderator" as const };
      const answer = await plugins.command(actor, moderator, {
        name: step.command,
        args: step.args,
        key: step.key,
        plugin: step.plugin,
      });
      if (answer === undefined)
        throw new Error(`plugin ${step.plugin} has no /${step.command} here`);
    },
    hookBots: async () => {
      const hooks = await env.INTEGRATIONS_HUB.getByName(roomHub(roomName())).incomingHooks(
        roomHub(roomName()),
      );
      return new Map(hooks.map((hook) => [hook.id, hook.botId]));
    },
    instanceRules,
    keepAlive,
    changed: () => clock.changed(),
  });
  const clock: Clock = new Clock(
    [reminders, automation, plugins.jobs],
    (due) => schedule.at("clock", due),
    () => schedule.dueOf("clock"),
  );
  if (read.room()) automation.syncClock(Date.now());
  clock.wake();
  plugins.wake();
  return { reminders, automation, clock };
}
