import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { modelPaths } from "./commands.ts";

/** A command as given (a path) or found on PATH, when it is an executable file. */
async function executable(command: string): Promise<boolean> {
  const candidates = command.includes("/")
    ? [command]
    : (process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, command));
  for (const candidate of candidates) {
    const ok = await access(candidate, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (ok) return true;
  }
  return false;
}

const exists = (path: string) =>
  access(path, constants.R_OK).then(
    () => true,
    () => false,
  );

/**
 * What the service needs and does not find: the two tools and the model's three parts, each
 * named as the operator would install or point at it. Empty when everything is there.
 */
export async function missingParts(options: {
  ffmpeg: string;
  pocketsphinx: string;
  modelDir: string;
}): Promise<string[]> {
  const model = modelPaths(options.modelDir);
  const checks: [string, Promise<boolean>][] = [
    [`${options.pocketsphinx} (apt: pocketsphinx)`, executable(options.pocketsphinx)],
    [`${options.ffmpeg} (apt: ffmpeg)`, executable(options.ffmpeg)],
    [`${model.hmm} (apt: pocketsphinx-en-us)`, exists(model.hmm)],
    [`${model.lm} (apt: pocketsphinx-en-us)`, exists(model.lm)],
    [`${model.dict} (apt: pocketsphinx-en-us)`, exists(model.dict)],
  ];
  const found = await Promise.all(checks.map(([, check]) => check));
  return checks.filter((_, i) => !found[i]).map(([name]) => name);
}
