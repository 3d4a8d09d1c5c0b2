/**
 * The URL hash is the app's one piece of navigation state: `#/room/<name>` (with `/people` to
 * moderate, `/integrations` for its owner's webhooks, out and in, `/automation` for its rules,
 * schedules and plugins), `#/search/<query>`,
 * `#/admin/<section>[/<name>]`, `#/bots` or the room list.
 */
export type Route =
  | { view: "rooms" }
  | { view: "bots" }
  | { view: "room"; room: string; people?: true; integrations?: true; automation?: true }
  | { view: "search"; q: string }
  | { view: "admin"; section: AdminSection; name?: string };

/** The admin dashboard's sections, in the order of its menu. */
export const ADMIN_SECTIONS = [
  "overview",
  "rooms",
  "users",
  "services",
  "webhooks",
  "slack",
  "rules",
  "plugins",
  "audit",
  "database",
] as const;
export type AdminSection = (typeof ADMIN_SECTIONS)[number];

/** Your bots (bots.ts). */
export const BOTS_HREF = "#/bots";

export function currentRoute(hash = location.hash): Route {
  if (hash === BOTS_HREF) return { view: "bots" };
  const admin = /^#\/admin(?:\/([a-z]+)(?:\/([^/]+))?)?$/.exec(hash);
  if (admin) return adminRoute(admin[1], admin[2]);
  const match = /^#\/(room|search)\/([^/]+)(?:\/(people|integrations|automation))?$/.exec(hash);
  if (!match?.[2]) return { view: "rooms" };
  const value = decoded(match[2]);
  if (value === undefined) return { view: "rooms" };
  if (match[1] === "search") return match[3] ? { view: "rooms" } : { view: "search", q: value };
  if (match[3] === "people") return { view: "room", room: value, people: true };
  if (match[3] === "integrations") return { view: "room", room: value, integrations: true };
  if (match[3] === "automation") return { view: "room", room: value, automation: true };
  return { view: "room", room: value };
}

function adminRoute(section: string | undefined, name: string | undefined): Route {
  const known = ADMIN_SECTIONS.find((s) => s === (section ?? "overview"));
  if (!known) return { view: "admin", section: "overview" };
  const value = name === undefined ? undefined : decoded(name);
  return value === undefined
    ? { view: "admin", section: known }
    : { view: "admin", section: known, name: value };
}

function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** A dashboard section, or one thing in it (`adminHref("users", "ada")`). */
export function adminHref(section: AdminSection, name?: string): string {
  if (section === "overview" && name === undefined) return "#/admin";
  return `#/admin/${section}${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;
}

/** A room with its people panel in view: where admins moderate it. */
export function moderateHref(room: string): string {
  return `${roomHref(room)}/people`;
}

/** A room with its Integrations panel (webhooks) in place of the live room: for its owner. */
export function integrationsHref(room: string): string {
  return `${roomHref(room)}/integrations`;
}

/** A room with its Automation view (rules, schedules, plugins): for moderators and above. */
export function automationHref(room: string): string {
  return `${roomHref(room)}/automation`;
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
