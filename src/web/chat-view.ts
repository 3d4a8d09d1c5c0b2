import { CommandError, RoomConnection, type RoomEvent, type UserRef } from "../client/index.ts";
import { Composer } from "./composer.ts";
import { errorText, handleUnauthorized, type AppContext, type View } from "./context.ts";
import { h } from "./dom.ts";
import { MessageItem, noticeItem, type MessageActions } from "./message-item.ts";
import { MessageList } from "./message-list.ts";
import { OnlineList, TypingIndicator } from "./presence.ts";
import { Timeline, type MessageModel } from "./timeline.ts";

const PAGE = 50;

/**
 * One room: history over HTTP, live events over the SDK's RoomConnection, a compose box,
 * presence, typing, the unread divider and the reconnecting banner.
 */
export function chatView(ctx: AppContext, room: string): View {
  const topic = h("p", { class: "topic", "data-testid": "topic" });
  const banner = h(
    "div",
    {
      class: "banner",
      role: "status",
      "aria-live": "polite",
      "data-testid": "reconnecting",
      hidden: true,
    },
    "Connection lost. Reconnecting…",
  );
  const fatal = h("div", { class: "fatal", role: "alert", "data-testid": "fatal", hidden: true });
  const loadError = h("p", { class: "error", role: "alert", hidden: true });
  const online = new OnlineList();
  const typing = new TypingIndicator();
  const list = new MessageList(() => void loadOlder());
  const timeline = new Timeline();
  const items = new Map<number, MessageItem>();
  /** Posts acked before their event arrived: the pending line goes when the event does. */
  const pendingBySeq = new Map<number, HTMLElement>();

  let conn: RoomConnection | undefined;
  let you: UserRef | undefined;
  let readSeq: number | undefined;
  let lastReadSent = 0;
  let wasOpen = false;
  let disposed = false;
  /** History loads in flight; live events wait in `buffered` until they land, then replay in order. */
  let loading = 0;
  let generation = 0;
  let buffered: RoomEvent[] = [];

  const actions: MessageActions = {
    you: () => you?.id,
    edit: (id, text) => command(() => conn!.edit(id, text)),
    remove: (id) => command(() => conn!.delete(id)),
    react: (id, emoji, on) => command(() => conn!.react(id, emoji, on)),
  };
  const composer = new Composer(send, () => conn?.typing());
  composer.setEnabled(false);

  const el = h(
    "section",
    { class: "chat", "aria-labelledby": "room-title" },
    h(
      "header",
      { class: "chat-head" },
      h("a", { href: "#/", class: "back", "data-testid": "back" }, "← Rooms"),
      h("h2", { id: "room-title" }, `#${room}`),
      topic,
    ),
    banner,
    fatal,
    loadError,
    h("div", { class: "chat-body" }, list.el, online.el),
    typing.el,
    composer.el,
  );

  function command(run: () => Promise<number>): Promise<number> {
    if (!conn) return Promise.reject(new Error("not connected yet"));
    return run();
  }

  function showFatal(message: string): void {
    fatal.replaceChildren(
      h("p", {}, "You were disconnected from this room: ", message),
      h("a", { href: "#/", "data-testid": "fatal-back" }, "Back to the room list"),
    );
    fatal.hidden = false;
    banner.hidden = true;
    composer.setEnabled(false);
  }

  // ---- rendering ----

  function renderMessage(message: MessageModel): void {
    const item = items.get(message.id);
    if (item) return item.update(message);
    const created = new MessageItem(message, actions);
    items.set(message.id, created);
    list.put(message.id, created.el);
    const pending = pendingBySeq.get(message.id);
    pending?.remove();
    pendingBySeq.delete(message.id);
  }

  function applyEvent(event: RoomEvent): void {
    const stick = list.atBottom();
    const change = timeline.apply(event);
    if (change.kind === "message") {
      renderMessage(change.message);
      if (change.fresh) {
        typing.stopped(change.message.author.id);
        const mine = change.message.author.id === you?.id;
        if (
          !mine &&
          list.dividerAt === undefined &&
          readSeq !== undefined &&
          document.visibilityState !== "visible"
        )
          list.markUnread(change.message.id);
        if (mine || stick) list.scrollToBottom();
      }
    } else if (change.kind === "notice") {
      list.put(
        change.notice.seq,
        noticeItem(change.notice.seq, change.notice.at, change.notice.text),
      );
      if (stick) list.scrollToBottom();
    } else if (change.kind === "topic") {
      topic.textContent = change.topic;
    }
    markRead();
  }

  /** Tells the server what was read, when the page is visible and the newest message is in view. */
  function markRead(): void {
    if (!conn || document.visibilityState !== "visible" || !list.atBottom()) return;
    const seq = conn.lastSeq;
    if (seq <= lastReadSent) return;
    lastReadSent = seq;
    conn.read(seq);
  }

  /** The divider goes once, before the first message by someone else after the read marker. */
  function placeDivider(): void {
    if (readSeq === undefined || !timeline.loaded || !you || list.dividerAt !== undefined) return;
    const first = [...timeline.messages.values()]
      .filter((m) => m.id > readSeq! && m.author.id !== you!.id)
      .sort((a, b) => a.id - b.id)[0];
    if (first) list.markUnread(first.id);
  }

  // ---- history ----

  async function load(before?: number): Promise<void> {
    const mine = generation;
    loading += 1;
    list.setHistoryState(timeline.nextBefore !== null, true);
    try {
      const page = await ctx.api.messages(
        room,
        before === undefined ? { limit: PAGE } : { before, limit: PAGE },
      );
      if (mine !== generation || disposed) return;
      const merge = () => timeline.merge(page).forEach(renderMessage);
      if (before === undefined) {
        merge();
        list.scrollToBottom();
      } else {
        list.keepPlace(merge);
      }
      loadError.hidden = true;
    } catch (error) {
      if (handleUnauthorized(ctx, error) || mine !== generation) return;
      loadError.textContent = `Could not load messages: ${errorText(error)}`;
      loadError.hidden = false;
    } finally {
      loading -= 1;
      if (!disposed) {
        if (mine === generation) list.setHistoryState(timeline.nextBefore !== null, false);
        if (loading === 0) {
          const replay = buffered;
          buffered = [];
          replay.forEach(applyEvent);
          placeDivider();
          markRead();
        }
      }
    }
  }

  function loadOlder(): Promise<void> | undefined {
    if (timeline.nextBefore === null || loading > 0) return;
    return load(timeline.nextBefore);
  }

  /** After a gap frame: start over from the newest page; the events already buffered replay on top. */
  function reload(): void {
    generation += 1;
    timeline.reset();
    items.clear();
    list.clear();
    void load();
  }

  // ---- compose ----

  function send(text: string): void {
    const status = h("span", { class: "status" }, "sending…");
    if (!conn) return;
    const line = h(
      "li",
      { class: "message mine pending", "data-testid": "pending" },
      h("p", { class: "text" }, text),
      status,
    );
    list.addPending(line);
    list.scrollToBottom();
    conn.post(text).then(
      (seq) => {
        if (timeline.messages.has(seq) || items.has(seq)) line.remove();
        else pendingBySeq.set(seq, line);
      },
      (error: unknown) => {
        line.classList.add("failed");
        status.replaceWith(
          h(
            "span",
            { class: "item-error", role: "alert" },
            `Not sent: ${error instanceof CommandError || error instanceof Error ? error.message : String(error)} `,
          ),
          h("button", { type: "button", on: { click: () => line.remove() } }, "Dismiss"),
        );
      },
    );
  }

  // ---- connection ----

  async function start(): Promise<void> {
    let lastSeq: number;
    try {
      const info = await ctx.api.getRoom(room);
      topic.textContent = info.topic;
      lastSeq = info.lastSeq;
    } catch (error) {
      if (handleUnauthorized(ctx, error) || disposed) return;
      return showFatal(errorText(error));
    }
    if (disposed) return;
    // Resume after the seq the history load starts from: every later event arrives over the socket.
    const c = new RoomConnection({
      baseUrl: ctx.baseUrl,
      room,
      token: ctx.session.token,
      since: lastSeq,
    });
    conn = c;
    composer.setEnabled(true);
    composer.input.focus();
    c.on("status", (status) => {
      if (status === "open") wasOpen = true;
      banner.hidden = !(wasOpen && (status === "connecting" || status === "reconnecting"));
    });
    c.on("welcome", (welcome) => {
      you = welcome.you;
      online.reset(welcome.online, welcome.you.id);
      if (readSeq === undefined) {
        readSeq = welcome.readSeq ?? 0;
        for (const item of items.values()) item.render(); // own messages get their edit and delete buttons
        placeDivider();
      }
      markRead();
    });
    c.on("event", (event) => (loading > 0 ? buffered.push(event) : applyEvent(event)));
    c.on("gap", reload);
    c.on("presence", (frame) => {
      online.apply(frame);
      if (frame.left) typing.stopped(frame.left.id);
    });
    c.on("typing", (user) => user.id !== you?.id && typing.saw(user));
    c.on("error", (frame) => {
      loadError.textContent = frame.message;
      loadError.hidden = false;
    });
    c.on("fatal", ({ code, message }) => {
      if (code === "unauthorized" || code === "4401") return ctx.signOut();
      showFatal(message);
    });
    const history = load(); // counts as loading before any event can arrive
    c.connect();
    await history;
  }

  const onVisible = () => markRead();
  document.addEventListener("visibilitychange", onVisible);
  list.el.addEventListener("scroll", onVisible, { passive: true });
  void start();

  return {
    el,
    dispose() {
      disposed = true;
      document.removeEventListener("visibilitychange", onVisible);
      typing.dispose();
      conn?.close();
    },
  };
}
