/**
 * A tiny element builder. Children that are strings become text nodes, so user text is
 * never parsed as HTML. Attributes go through setAttribute; `on` wires event listeners.
 * @example h("button", { type: "button", on: { click: save } }, "Save")
 */
type Child = Node | string | number | false | null | undefined;
type Attrs = {
  [name: string]:
    | string
    | number
    | boolean
    | undefined
    | Partial<Record<keyof HTMLElementEventMap, (event: never) => void>>;
} & { on?: Partial<{ [K in keyof HTMLElementEventMap]: (event: HTMLElementEventMap[K]) => void }> };

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "on") {
      for (const [type, listener] of Object.entries(value as Record<string, EventListener>))
        el.addEventListener(type, listener);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else if (value !== false && value !== undefined) {
      el.setAttribute(name, String(value));
    }
  }
  append(el, ...children);
  return el;
}

/** Appends children, strings as text nodes. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** Replaces all children of `parent`. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

/** A short local time for a message, with the full date in a tooltip. */
export function time(at: number): HTMLTimeElement {
  const date = new Date(at);
  const el = h("time", { datetime: date.toISOString(), title: date.toLocaleString() });
  el.textContent = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return el;
}
