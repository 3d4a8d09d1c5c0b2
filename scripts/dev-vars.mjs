// Creates .dev.vars with a fresh random JWT_SECRET the first time, so that `npm run dev`
// works on a new machine without a hand-made secret, and adds a random METRICS_TOKEN (the scrape
// token of /metrics, which `npm run prometheus` reads) and WEBHOOK_ALLOW_LOOPBACK=true (local
// webhook receivers) and TRANSCRIBER_URL (the local transcriber, `npm run transcriber`) when the
// file has none. Nothing else in an existing .dev.vars is touched.
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";

const path = new URL("../.dev.vars", import.meta.url);
const random = () => randomBytes(32).toString("base64url");

if (!existsSync(path)) {
  const example = readFileSync(new URL("../.dev.vars.example", import.meta.url), "utf8");
  writeFileSync(path, example.replace(/^JWT_SECRET=.*$/m, `JWT_SECRET=${random()}`));
  console.log("created .dev.vars with a random JWT_SECRET");
}

const vars = readFileSync(path, "utf8");
if (!/^METRICS_TOKEN=/m.test(vars)) {
  const separator = vars === "" || vars.endsWith("\n") ? "" : "\n";
  appendFileSync(
    path,
    `${separator}# The scrape token of /metrics (npm run prometheus reads it from here).\nMETRICS_TOKEN=${random()}\n`,
  );
  console.log("added a random METRICS_TOKEN to .dev.vars");
}

// Local receivers for webhooks and slash commands (docs/integrations.md): an older .dev.vars
// gets the setting too.
const now = readFileSync(path, "utf8");
if (!/^#?\s*WEBHOOK_ALLOW_LOOPBACK=/m.test(now)) {
  const separator = now === "" || now.endsWith("\n") ? "" : "\n";
  appendFileSync(
    path,
    `${separator}# Webhooks and slash commands may call receivers on this machine (local development only).\nWEBHOOK_ALLOW_LOOPBACK=true\n`,
  );
  console.log("added WEBHOOK_ALLOW_LOOPBACK=true to .dev.vars");
}

// The local transcriber (`npm run transcriber`, docs/attachments.md): voice messages are
// transcribed when it runs, retried until it does. An older .dev.vars gets the setting too.
const latest = readFileSync(path, "utf8");
if (!/^#?\s*TRANSCRIBER_URL=/m.test(latest)) {
  const separator = latest === "" || latest.endsWith("\n") ? "" : "\n";
  appendFileSync(
    path,
    `${separator}# Where the local transcriber listens (npm run transcriber; docs/attachments.md).\nTRANSCRIBER_URL=http://127.0.0.1:8790\n`,
  );
  console.log("added TRANSCRIBER_URL=http://127.0.0.1:8790 to .dev.vars");
}
