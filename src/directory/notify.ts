import type { RoomInfo } from "../protocol/index.ts";

/** The one directory object's name. */
export const DIRECTORY_NAME = "directory";

/** Sends a room's summary to the directory; false when it could not be delivered (retry later). */
export async function notifyDirectory(env: Env, info: RoomInfo): Promise<boolean> {
  try {
    await env.DIRECTORY.getByName(DIRECTORY_NAME).upsert(info);
    return true;
  } catch (error) {
    console.warn("edgechat: directory update failed, will retry", error);
    return false;
  }
}
