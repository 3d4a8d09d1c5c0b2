import { definePlugin } from "../../src/plugins/api.ts";
import { HOSTS } from "./hosts.ts";
import { unfurl } from "./unfurl.ts";

export default definePlugin({
  id: "link-unfurler",
  version: "1.0.0",
  description:
    "Replies to a message's links on its listed hosts with each page's title and description.",
  hosts: HOSTS,
  afterEvent: (event, ctx) => unfurl(event, ctx, HOSTS),
});
