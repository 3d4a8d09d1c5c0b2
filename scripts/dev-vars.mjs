// Creates .dev.vars with a fresh random JWT_SECRET the first time, so that `npm run dev`
// works on a new machine without a hand-made secret. An existing .dev.vars is left alone.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const path = new URL("../.dev.vars", import.meta.url);
if (!existsSync(path)) {
  const example = readFileSync(new URL("../.dev.vars.example", import.meta.url), "utf8");
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(path, example.replace(/^JWT_SECRET=.*$/m, `JWT_SECRET=${secret}`));
  console.log("created .dev.vars with a random JWT_SECRET");
}
