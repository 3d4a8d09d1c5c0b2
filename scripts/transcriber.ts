/**
 * `npm run transcriber`: the local transcriber (src/transcriber/, docs/attachments.md), Workers
 * AI Whisper's API in front of Debian's pocketsphinx, for `npm run dev` (whose .dev.vars points
 * TRANSCRIBER_URL at it) and the tests. TRANSCRIBER_PORT (default 8790), TRANSCRIBER_HOST
 * (default 127.0.0.1), TRANSCRIBER_JOBS, TRANSCRIBER_QUEUE, TRANSCRIBER_TIMEOUT_MS and the tools'
 * paths: src/transcriber/options.ts.
 */
import { missingParts } from "../src/transcriber/health.ts";
import { optionsFromEnv } from "../src/transcriber/options.ts";
import { startTranscriberService } from "../src/transcriber/server.ts";

const options = optionsFromEnv(process.env);
const service = await startTranscriberService(options);
const missing = await missingParts(options);
console.log(
  `transcriber: ${service.url} (POST /v1/transcribe, GET /healthz), ${options.jobs} jobs at once, ` +
    `${options.queue} waiting` +
    (missing.length > 0 ? `; MISSING: ${missing.join(", ")} (/healthz answers 503)` : ""),
);
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => void service.close().then(() => process.exit(0)));
