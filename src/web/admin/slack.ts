import type { SlackLink } from "../../client/index.ts";
import { errorText, handleUnauthorized, type AppContext } from "../context.ts";
import { h, replace } from "../dom.ts";
import { roomHref } from "../route.ts";
import { agoText } from "./overview-data.ts";

/**
 * The admin dashboard's Slack section (docs/integrations.md, "Slack bridge"): the links between
 * Slack channels and rooms, each with when a message last crossed and the last failure (Slack's
 * code and what to do about it), a form to link a channel to a room, and a button to unlink.
 * While the bridge is off the server answers 404, which the section says as the server words it.
 */
export function slackSection(ctx: AppContext): HTMLElement {
  const body = h("tbody", { "data-testid": "slack-links" });
  const problem = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "slack-error",
    hidden: true,
  });
  const channel = h("input", {
    id: "slack-channel",
    name: "channel",
    "data-testid": "slack-channel",
    required: true,
    autocomplete: "off",
    placeholder: "C0123ABCDEF",
    pattern: "[CG][A-Z0-9]{8,20}",
    title: "the channel id: C or G and 8 to 20 of A-Z and 0-9 (the channel's details in Slack)",
  });
  const room = h("input", {
    id: "slack-room",
    name: "room",
    "data-testid": "slack-room",
    required: true,
    autocomplete: "off",
    placeholder: "general",
  });
  const form = h(
    "form",
    {
      class: "service-form",
      "aria-label": "Link a Slack channel to a room",
      on: {
        submit: (event) => {
          event.preventDefault();
          void act(async (api) => {
            await api.admin.linkSlack(channel.value.trim(), room.value.trim());
            channel.value = "";
            room.value = "";
          });
        },
      },
    },
    h("div", { class: "row" }, h("label", { for: "slack-channel" }, "Channel id"), channel),
    h("div", { class: "row" }, h("label", { for: "slack-room" }, "Room"), room),
    h("button", { type: "submit", "data-testid": "slack-link" }, "Link"),
  );

  async function act(run: Parameters<AppContext["call"]>[0]): Promise<void> {
    problem.hidden = true;
    try {
      await ctx.call(run);
      await load();
    } catch (error) {
      if (handleUnauthorized(ctx, error)) return;
      problem.textContent = errorText(error);
      problem.hidden = false;
    }
  }

  function row(link: SlackLink, now: number): HTMLElement {
    const failed = link.lastError;
    return h(
      "tr",
      { "data-channel": link.channel, class: failed ? "bad" : undefined },
      h("th", { scope: "row", class: "mono" }, link.channel),
      h("td", {}, h("a", { href: roomHref(link.room) }, `#${link.room}`)),
      h("td", {}, agoText(link.lastMessageAt, now)),
      h(
        "td",
        { class: "wrap", "data-testid": "slack-last-error" },
        failed ? `${agoText(failed.at, now)}: ${failed.message}` : "none",
      ),
      h(
        "td",
        {},
        h(
          "button",
          {
            type: "button",
            class: "danger",
            "data-testid": "slack-unlink",
            on: { click: () => void act((api) => api.admin.unlinkSlack(link.channel)) },
          },
          "Unlink",
        ),
      ),
    );
  }

  async function load(): Promise<void> {
    const { links } = await ctx.call((api) => api.admin.slackLinks());
    const now = Date.now();
    replace(
      body,
      ...(links.length
        ? links.map((link) => row(link, now))
        : [h("tr", {}, h("td", { colspan: 5, class: "hint" }, "No Slack channel is linked."))]),
    );
  }

  const refresh = h(
    "button",
    {
      type: "button",
      "data-testid": "slack-refresh",
      on: { click: () => void act(async () => undefined) },
    },
    "Refresh",
  );

  void load().catch((error: unknown) => {
    if (handleUnauthorized(ctx, error)) return;
    problem.textContent = `Could not load the Slack links: ${errorText(error)}`;
    problem.hidden = false;
  });

  return h(
    "section",
    { class: "card services slack", "aria-labelledby": "slack-title" },
    h("h2", { id: "slack-title" }, "Slack"),
    h(
      "p",
      { class: "hint" },
      "A linked Slack channel and room share their messages both ways, with thread replies, " +
        "edits and deletes. Invite the bot to the channel first (/invite @edgechat); a failure " +
        "Slack reports shows on its link.",
    ),
    form,
    problem,
    h(
      "div",
      { class: "table-wrap", role: "region", "aria-label": "Slack links", tabindex: 0 },
      h(
        "table",
        { class: "report" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...["Channel", "Room", "Last message", "Last failure", "Manage"].map((text) =>
              h("th", { scope: "col" }, text),
            ),
          ),
        ),
        body,
      ),
    ),
    refresh,
  );
}
