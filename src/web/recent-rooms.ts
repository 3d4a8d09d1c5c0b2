import * as z from "zod";
import { RoomName, Visibility } from "../client/index.ts";
import { readStored } from "./stored.ts";

const Recent = z.object({ name: RoomName, visibility: Visibility });
type Recent = z.infer<typeof Recent>;
const recentKey = (userId: string) => `edgechat.rooms.${userId}`;

/** Rooms this user opened in this browser, newest first (private rooms appear in no list). */
export function recentRooms(userId: string): Recent[] {
  const stored = readStored(recentKey(userId), z.array(z.unknown()));
  if (stored.found !== "value") return [];
  // One bad entry does not cost the others.
  return stored.value.flatMap((entry) => {
    const room = Recent.safeParse(entry);
    return room.success ? [room.data] : [];
  });
}

export function rememberRoom(userId: string, name: string, visibility: Recent["visibility"]): void {
  const rooms = [{ name, visibility }, ...recentRooms(userId).filter((r) => r.name !== name)].slice(
    0,
    20,
  );
  localStorage.setItem(recentKey(userId), JSON.stringify(rooms));
}

export function forgetRoom(userId: string, name: string): void {
  localStorage.setItem(
    recentKey(userId),
    JSON.stringify(recentRooms(userId).filter((r) => r.name !== name)),
  );
}
