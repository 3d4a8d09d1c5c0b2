/** The URL hash is the app's one piece of navigation state: `#/room/<name>` or the room list. */
export type Route = { view: "rooms" } | { view: "room"; room: string };

export function currentRoute(): Route {
  const match = /^#\/room\/([^/]+)$/.exec(location.hash);
  if (!match?.[1]) return { view: "rooms" };
  try {
    return { view: "room", room: decodeURIComponent(match[1]) };
  } catch {
    return { view: "rooms" };
  }
}

export function roomHref(room: string): string {
  return `#/room/${encodeURIComponent(room)}`;
}

export function goToRoom(room: string): void {
  location.hash = roomHref(room);
}

export function goToRooms(): void {
  location.hash = "#/";
}

let flash: string | undefined;

/** A notice for the next screen (e.g. why you are back at the room list). */
export function setFlash(text: string): void {
  flash = text;
}

/** The pending notice, once. */
export function takeFlash(): string | undefined {
  const text = flash;
  flash = undefined;
  return text;
}
