/**
 * The URL hash is the app's one piece of navigation state: `#/room/<name>`, `#/search/<query>`,
 * `#/admin` or the room list.
 */
export type Route =
  | { view: "rooms" }
  | { view: "room"; room: string }
  | { view: "search"; q: string }
  | { view: "admin" };

export function currentRoute(): Route {
  if (location.hash === "#/admin") return { view: "admin" };
  const match = /^#\/(room|search)\/([^/]+)$/.exec(location.hash);
  if (!match?.[2]) return { view: "rooms" };
  try {
    const value = decodeURIComponent(match[2]);
    return match[1] === "room" ? { view: "room", room: value } : { view: "search", q: value };
  } catch {
    return { view: "rooms" };
  }
}

export function searchHref(q: string): string {
  return `#/search/${encodeURIComponent(q)}`;
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
