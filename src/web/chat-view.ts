import {
  CommandError,
  RoomConnection,
  type CommandFrame,
  type Role,
  type RoomEvent,
  type UserRef,
} from "../client/index.ts";
import { Composer } from "./composer.ts";
import { errorText, handleUnauthorized, type AppContext, type View } from "./context.ts";
import { h } from "./dom.ts";
import { MessageItem, noticeItem, type MessageActions } from "./message-item.ts";
import { MessageList } from "./message-list.ts";
import { memberNotice, slowModeNotice } from "./notices.ts";
import { MemberPanel, type PanelCommand } from "./members.ts";
import { TypingIndicator } from "./presence.ts";
import { forgetRoom, rememberRoom } from "./room-list.ts";
import { goToRooms, setFlash } from "./route.ts";
import { roomControls } from "./room-controls.ts";
import { noteWrite } from "./search-view.ts";
import { Timeline, type MessageModel } from "./timeline.ts";

const PAGE = 50;

/** A command frame before the connection gives it a clientId. */
type Unsent<T> = T extends unknown ? Omit<T, "clientId"> : never;

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
  const members = new MemberPanel({
    you: () => you?.id,
    send: (command: PanelCommand) => sendCommand(command),
    invite: (username, role) => ctx.call((api) => api.invite(room, username, role)),
    roleChanged: (role) => roleChanged(role),
  });
  const controls = roomControls({
    currentTopic: () => topic.textContent ?? "",
    setTopic: (text) => command(() => conn!.setTopic(text)),
    setSlowMode: (seconds) => sendCommand({ type: "slow_mode", seconds }),
    leave: () => leaveRoom(),
  });
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
  let leaving = false;
  let membersTimer: ReturnType<typeof setTimeout> | undefined;

  const actions: MessageActions = {
    you: () => you?.id,
    edit: (id, text) => command(() => conn!.edit(id, text)),
    remove: (id) => command(() => conn!.delete(id)),
    canModerate: () =>
      members.admin || members.myRole === "owner" || members.myRole === "moderator",
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
      controls.el,
    ),
    banner,
    fatal,
    loadError,
    h("div", { class: "chat-body" }, list.el, members.el),
    typing.el,
    composer.el,
  );

  function command(run: () => Promise<number>): Promise<number> {
    if (!conn) return Promise.reject(new Error("not connected yet"));
    return run();
  }

  /** Sends a moderation (or leave) command over the socket; resolves on its ack. */
  function sendCommand(command: PanelCommand | Unsent<CommandFrame>): Promise<number> {
    if (!conn) return Promise.reject(new Error("not connected yet"));
    return conn.send({ ...command, clientId: conn.nextClientId() } as CommandFrame);
  }

  /**
   * Your role decides the controls: moderation in the header and Delete on others' messages.
   * Instance admins get them in every room, members or not.
   */
  function roleChanged(role: Role | undefined): void {
    controls.setRole(role, members.admin);
    for (const item of items.values()) item.render();
  }

  /** Loads the member list now and again shortly after member events (the events apply at once). */
  async function loadMembers(): Promise<void> {
    try {
      const { members: list } = await ctx.call((api) => api.members(room));
      if (!disposed) members.setMembers(list);
    } catch (error) {
      if (handleUnauthorized(ctx, error) || disposed) return;
      loadError.textContent = `Could not load the members: ${errorText(error)}`;
      loadError.hidden = false;
    }
  }
  function reloadMembersSoon(): void {
    clearTimeout(membersTimer);
    membersTimer = setTimeout(() => void loadMembers(), 400);
  }

  /** Leaves the room; a refusal is shown by the controls. */
  async function leaveRoom(): Promise<void> {
    leaving = true;
    try {
      await sendCommand({ type: "leave" });
    } catch (error) {
      leaving = false;
      throw error;
    }
    forgetRoom(ctx.session.user.id, room);
    setFlash(`You left #${room}.`);
    goToRooms();
  }

  function showFatal(message: string, prefix = "You were disconnected from this room: "): void {
    fatal.replaceChildren(
      h("p", {}, prefix, message),
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
    const memberChange = members.apply(event);
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
      notice(event, `${event.actor.name} changed the topic`);
    } else if (memberChange) {
      notice(
        event,
        memberNotice(event, (id) => members.nameOf(id)),
      );
      reloadMembersSoon();
    } else if (event.type === "room.slow_mode_changed") {
      controls.slowMode(event.data.seconds);
      notice(event, slowModeNotice(event.actor.name, event.data.seconds));
    }
    markRead();
  }

  function notice(event: RoomEvent, text: string | undefined): void {
    if (!text || event.type === "member.joined" || event.type === "member.left") return; // the timeline has those
    const stick = list.atBottom();
    list.put(event.seq, noticeItem(event.seq, event.at, text));
    if (stick) list.scrollToBottom();
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
      const page = await ctx.call((api) =>
        api.messages(room, before === undefined ? { limit: PAGE } : { before, limit: PAGE }),
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
        noteWrite(room, seq);
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
      const info = await ctx.call((api) => api.getRoom(room));
      topic.textContent = info.topic;
      if (info.slowModeSeconds !== undefined) controls.slowMode(info.slowModeSeconds);
      lastSeq = info.lastSeq;
      rememberRoom(ctx.session.user.id, room, info.visibility);
    } catch (error) {
      if (handleUnauthorized(ctx, error) || disposed) return;
      forgetRoom(ctx.session.user.id, room);
      return showFatal(errorText(error), "Cannot open this room: ");
    }
    if (disposed) return;
    // Resume after the seq the history load starts from: every later event arrives over the socket.
    const c = new RoomConnection({
      baseUrl: ctx.baseUrl,
      room,
      token: ctx.auth.token,
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
      members.resetOnline(welcome.online);
      void loadMembers();
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
      members.presence(frame);
      if (frame.left) typing.stopped(frame.left.id);
    });
    c.on("typing", (user) => user.id !== you?.id && typing.saw(user));
    c.on("error", (frame) => {
      loadError.textContent = frame.message;
      loadError.hidden = false;
    });
    c.on("fatal", ({ code, message }) => {
      if (code === "unauthorized" || code === "4401") {
        // The token expired or the session was revoked: renew once and start over, else sign in.
        const stale = ctx.auth.token();
        void ctx.auth.reauth(stale).then((renewed) => renewed && !disposed && ctx.rerender());
        return;
      }
      if (code === "4403") {
        forgetRoom(ctx.session.user.id, room);
        if (leaving) return; // leaving a private room closes its sockets too
        setFlash(`You were removed from #${room}${message ? ` (${message})` : ""}.`);
        return goToRooms();
      }
      showFatal(message);
    });
    const history = load(); // counts as loading before any event can arrive
    c.connect();
    await history;
  }

  void ctx.admin.then((admin) => {
    if (disposed || !admin) return;
    members.setAdmin(true);
    roleChanged(members.myRole);
  });

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
      members.dispose();
      clearTimeout(membersTimer);
      conn?.close();
    },
  };
}
