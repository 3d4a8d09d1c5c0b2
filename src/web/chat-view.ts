import {
  can,
  CommandError,
  isSlashCommand,
  rankOf,
  RoomConnection,
  type RoomEvent,
  type Standing,
} from "../client/index.ts";
import { automationPanel } from "./automation/automation-panel.ts";
import { mayAutomate } from "./automation/automation-rules.ts";
import type { TrayFile } from "./attachments/attachment-tray.ts";
import { BlobUrls } from "./attachments/blob-urls.ts";
import { fileSender } from "./attachments/file-sender.ts";
import type { Recording } from "./attachments/voice-recorder.ts";
import { ChatScreen } from "./chat-screen.ts";
import {
  initialChatState,
  reduce,
  type ChatAction,
  type ChatEffect,
  type ChatState,
  type Seen,
} from "./chat-state.ts";
import type { SocketCommand } from "./commands.ts";
import { errorText, handleUnauthorized, type AppContext, type View } from "./context.ts";
import { HistoryView } from "./history-view.ts";
import { forgetRoom, rememberRoom } from "./recent-rooms.ts";
import { integrationsPanel } from "./integrations-panel.ts";
import {
  automationHref,
  goToRooms,
  integrationsHref,
  roomHref,
  setFlash,
  type Route,
} from "./route.ts";
import { noteWrite } from "./search-view.ts";
import { maySeeBans } from "./members-state.ts";

const PAGE = 50;

/** The panels a room's URL may open in place of the live room, for those whose standing allows. */
type PanelKind = "integrations" | "automation";
const PANEL_ALLOWED: Record<PanelKind, (you: Standing) => boolean> = {
  integrations: (you) => can(you, "integrations"),
  automation: mayAutomate,
};

const panelOf = (route: { integrations?: true; automation?: true }): PanelKind | undefined =>
  route.integrations ? "integrations" : route.automation ? "automation" : undefined;

/**
 * One room: history over HTTP, live events over the SDK's RoomConnection, a compose box,
 * presence, typing, the unread divider and the reconnecting banner; the room as it was, its
 * Integrations panel (`#/room/<name>/integrations`) and its Automation view
 * (`#/room/<name>/automation`), in place of the live room. The pure reducer
 * of chat-state.ts decides what happens; ChatScreen draws its state; this runs its effects.
 */
export function chatView(
  ctx: AppContext,
  room: string,
  options: { people?: boolean; integrations?: true; automation?: true } = {},
): View {
  let state: ChatState = initialChatState;
  let conn: RoomConnection | undefined;
  let disposed = false;
  let membersTimer: ReturnType<typeof setTimeout> | undefined;
  let postIds = 0;
  /** The panel the URL asks for (Integrations, Automation), shown once your standing allows it. */
  let wanted = panelOf(options);
  /** The panel shown, and the rank it was built for (a new rank builds it again). */
  let panel: { kind: PanelKind; view: View; rank: string } | undefined;
  let you: Standing | undefined;
  let adminKnown = false;
  /** Who hears the room's live events beside the chat (the Automation view, while open). */
  const eventListeners = new Set<(event: RoomEvent) => void>();
  const onEvents = (listener: (event: RoomEvent) => void) => {
    eventListeners.add(listener);
    return () => void eventListeners.delete(listener);
  };

  /** Attachments fetched with the token, as blob URLs, for as long as the room is open. */
  const blobUrls = new BlobUrls((id) => ctx.call((api) => api.uploads(room).fetch(id)));
  const files = fileSender({
    ctx,
    room,
    tray: () => screen.composer.tray,
    begin: (text, count) => {
      const id = ++postIds;
      dispatch({ type: "sending", id, text, files: count });
      return id;
    },
    settle: (id, posted) => settlePost(id, posted),
    refuse: (id, message, text) => {
      // The text goes back to the box, to send again once the files are sorted out.
      if (!screen.composer.input.value) screen.composer.input.value = text;
      dispatch({ type: "refused", id, message });
    },
  });

  const screen = new ChatScreen(room, {
    attachmentUrl: blobUrls.urlOf,
    message: {
      edit: (id, text) => command((c) => c.edit(id, text)),
      remove: (id) => command((c) => c.delete(id)),
      redact: (id) => command((c) => c.redact(id)),
      react: (id, emoji, on) => command((c) => c.react(id, emoji, on)),
    },
    panel: {
      send: (command) => sendCommand(command),
      invite: (username, role) => ctx.call((api) => api.invite(room, username, role)),
    },
    controls: {
      setTopic: (text) => command((c) => c.setTopic(text)),
      setSlowMode: (seconds) => sendCommand({ type: "slow_mode", seconds }),
      leave: () => leaveRoom(),
      undo: () => command((c) => c.undo()),
      redo: () => command((c) => c.redo()),
      verify: () => ctx.call((api) => api.verifyRoom(room)),
      integrationsHref: integrationsHref(room),
      automationHref: automationHref(room),
    },
    standing: (standing) => {
      you = standing;
      syncPanel();
      // What you may run changed with your role: completion offers what is allowed now.
      void loadSlashCommands();
    },
    older: () => dispatch({ type: "older" }),
    dismiss: (id) => dispatch({ type: "dismissed", id }),
    dismissEphemeral: (id) => dispatch({ type: "ephemeral-dismissed", id }),
    send,
    voice: (recording) => sendVoice(recording),
    typing: () => conn?.typing(),
    history: () => {
      if (wanted) {
        // The URL says the live room again (no hashchange: nothing is built anew).
        window.history.replaceState(null, "", roomHref(room));
        wanted = undefined;
        syncPanel();
      }
      screen.showInstead(history.el);
      history.open();
    },
  });
  const { list } = screen;
  const history = new HistoryView(ctx, room, {
    lastSeq: () => conn?.lastSeq ?? 0,
    close: () => {
      history.hide();
      screen.showInstead(undefined);
    },
  });

  const seen = (): Seen => ({
    visible: document.visibilityState === "visible",
    atBottom: list.atBottom(),
  });

  function dispatch(action: ChatAction): void {
    if (disposed) return;
    const before = state;
    const { state: after, effects } = reduce(state, action);
    state = after;
    if (after !== before) {
      if (effects.some((effect) => effect.kind === "keep-place"))
        list.keepPlace(() => screen.render(before, after));
      else screen.render(before, after);
    }
    for (const effect of effects) run(effect);
  }

  function run(effect: ChatEffect): void {
    switch (effect.kind) {
      case "fetch":
        return void fetchPage(effect.generation, effect.before);
      case "scroll-to-bottom":
        return list.scrollToBottom();
      case "keep-place":
        return; // done around the drawing
      case "check-read":
        return markRead();
      case "send-read":
        return conn?.read(effect.seq);
      case "load-members":
        return void loadMembers();
      case "reload-members":
        clearTimeout(membersTimer);
        membersTimer = setTimeout(() => void loadMembers(), 400);
        return;
      case "stop-typing":
        return screen.typing.stopped(effect.userId);
      case "reauth": {
        const stale = ctx.auth.token();
        void ctx.auth.reauth(stale).then((renewed) => renewed && !disposed && ctx.rerender());
        return;
      }
      case "forget-room":
        return forgetRoom(ctx.session.user.id, room);
      case "removed":
        setFlash(`You were removed from #${room}${effect.reason ? ` (${effect.reason})` : ""}.`);
        return goToRooms();
    }
  }

  /** Tells the server what was read, when the page is visible and the newest message is in view. */
  function markRead(): void {
    if (conn) dispatch({ type: "seen", seen: seen(), lastSeq: conn.lastSeq });
  }

  async function fetchPage(generation: number, before: number | undefined): Promise<void> {
    try {
      const page = await ctx.call((api) =>
        api.messages(room, before === undefined ? { limit: PAGE } : { before, limit: PAGE }),
      );
      dispatch({ type: "page", generation, page, older: before !== undefined });
    } catch (error) {
      if (!handleUnauthorized(ctx, error))
        dispatch({ type: "page-failed", generation, message: errorText(error) });
    } finally {
      dispatch({ type: "load-ended", generation, seen: seen() });
    }
  }

  async function loadMembers(): Promise<void> {
    try {
      const { members } = await ctx.call((api) => api.members(room));
      dispatch({ type: "members", members });
      if (!maySeeBans(state.members)) return;
      const { bans } = await ctx.call((api) => api.bans(room));
      dispatch({ type: "bans", bans });
    } catch (error) {
      if (!handleUnauthorized(ctx, error))
        dispatch({ type: "members-failed", message: errorText(error) });
    }
  }

  /**
   * Opens or closes the panel the URL asks for (Integrations, Automation) as your standing
   * allows. Someone who may not use it never sees it: once their role and the admin check are
   * known, the URL goes back to the live room.
   */
  function syncPanel(): void {
    const allowed = wanted !== undefined && you !== undefined && PANEL_ALLOWED[wanted](you);
    const rank = you ? rankOf(you) : "none";
    if (panel && (panel.kind !== wanted || !allowed || panel.rank !== rank)) closePanel();
    if (wanted && allowed && you && !panel) {
      const view =
        wanted === "integrations"
          ? integrationsPanel(ctx, room)
          : automationPanel(ctx, room, you, {
              undo: () => command((c) => c.undo()),
              onEvents,
            });
      panel = { kind: wanted, view, rank };
      history.hide();
      screen.showInstead(view.el);
      view.el.focus();
    }
    if (wanted && !allowed && adminKnown && you?.role !== undefined) {
      wanted = undefined;
      window.history.replaceState(null, "", roomHref(room));
    }
  }

  function closePanel(): void {
    if (!panel) return;
    panel.view.dispose();
    panel.view.el.remove();
    panel = undefined;
    screen.showInstead(undefined);
    // Its custom slash commands, or plugins' commands, may have changed there.
    void loadSlashCommands();
  }

  // ---- commands ----

  function command(run: (c: RoomConnection) => Promise<number>): Promise<number> {
    return conn ? run(conn) : Promise.reject(new Error("not connected yet"));
  }

  /** Sends a command over the socket with a fresh clientId; resolves on its ack. */
  function sendCommand(unsent: SocketCommand): Promise<number> {
    return command((c) => c.send({ ...unsent, clientId: c.nextClientId() }));
  }

  /** The commands this user may run here, for the compose box's completion. */
  async function loadSlashCommands(): Promise<void> {
    try {
      const { commands } = await ctx.call((api) => api.slash.commands(room));
      if (!disposed) screen.composer.slash.setCommands(commands);
    } catch (error) {
      // Completion is a help, not a need: without it, commands still run when sent.
      handleUnauthorized(ctx, error);
    }
  }

  /** An answer for you alone, after the newest event: from a command's run or its socket frame. */
  function showEphemeral(text: string, from: string, at = Date.now()): void {
    dispatch({ type: "ephemeral", text, from, at, after: conn?.lastSeq ?? 0 });
  }

  /**
   * Runs a slash command: what it logs arrives over the socket like anything else; an ephemeral
   * answer shows here; a refusal shows as any refused command's.
   */
  async function runSlash(text: string, clientId: string): Promise<void> {
    const name = text.trim().split(/\s/, 1)[0]!;
    try {
      // The browser's zone reads the times `/remind` is given (docs/automation.md).
      const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      const result = await ctx.call((api) => api.slash.run(room, text, clientId, zone));
      if (result.kind === "ephemeral") showEphemeral(result.text, name);
      if (result.kind === "command" || result.kind === "posted") noteWrite(room, result.seq);
    } catch (error) {
      if (!handleUnauthorized(ctx, error))
        dispatch({ type: "error-frame", message: errorText(error) });
    }
  }

  function send(text: string, attached: readonly TrayFile[] = []): void {
    if (!conn) return;
    if (isSlashCommand(text) && attached.length === 0)
      return void runSlash(text, conn.nextClientId());
    // `//text` posts `/text`: the way to start a message with a slash.
    if (text.trimStart().startsWith("//")) text = text.trimStart().slice(1);
    if (attached.length) return void files.withFiles(conn, text, attached);
    const id = ++postIds;
    dispatch({ type: "sending", id, text });
    settlePost(id, conn.post(text));
  }

  /** A post's ack or refusal, to its pending line. */
  function settlePost(id: number, posted: Promise<number>): void {
    posted.then(
      (seq) => {
        noteWrite(room, seq);
        dispatch({ type: "acked", id, seq });
      },
      (error: unknown) => {
        const reason =
          error instanceof CommandError || error instanceof Error
            ? errorText(error)
            : String(error);
        dispatch({ type: "refused", id, message: reason });
      },
    );
  }

  function sendVoice(recording: Recording): void {
    if (conn) files.voice(conn, recording);
  }

  /** Leaves the room; a refusal is shown by the controls. */
  async function leaveRoom(): Promise<void> {
    dispatch({ type: "leaving" });
    try {
      await sendCommand({ type: "leave" });
    } catch (error) {
      dispatch({ type: "leave-refused" });
      throw error;
    }
    forgetRoom(ctx.session.user.id, room);
    setFlash(`You left #${room}.`);
    goToRooms();
  }

  // ---- connection ----

  async function start(): Promise<void> {
    let info;
    try {
      info = await ctx.call((api) => api.getRoom(room));
    } catch (error) {
      if (!handleUnauthorized(ctx, error))
        dispatch({ type: "room-refused", message: errorText(error) });
      return;
    }
    rememberRoom(ctx.session.user.id, room, info.visibility);
    if (disposed) return;
    dispatch({ type: "room-found", topic: info.topic, slowModeSeconds: info.slowModeSeconds });
    // Resume after the seq the history load starts from: every later event arrives over the socket.
    const c = new RoomConnection({
      baseUrl: ctx.baseUrl,
      room,
      token: ctx.auth.token,
      since: info.lastSeq,
    });
    conn = c;
    // From the dashboard's "Moderate": the people panel, with its menus, rather than the compose box.
    if (options.people) screen.focusPeople();
    else screen.composer.input.focus();
    c.on("status", (status) => dispatch({ type: "status", status }));
    c.on("welcome", ({ you, online, readSeq }) =>
      dispatch({ type: "welcome", you, online, readSeq }),
    );
    c.on("event", (event) => {
      dispatch({ type: "event", event, seen: seen() });
      for (const listener of eventListeners) listener(event);
    });
    c.on("gap", () => dispatch({ type: "gap" }));
    c.on("presence", (frame) => dispatch({ type: "presence", frame }));
    c.on("typing", (user) => user.id !== state.members.you && screen.typing.saw(user));
    c.on("ephemeral", (frame) => showEphemeral(frame.text, frame.from.name, frame.at));
    c.on("welcome", () => void loadSlashCommands());
    c.on("error", (frame) => dispatch({ type: "error-frame", message: frame.message }));
    c.on("fatal", ({ code, message }) => dispatch({ type: "fatal", code, message }));
    c.connect();
  }

  void ctx.admin.then((admin) => {
    adminKnown = true;
    dispatch({ type: "admin", admin });
    syncPanel();
  });
  const onVisible = () => markRead();
  document.addEventListener("visibilitychange", onVisible);
  list.el.addEventListener("scroll", onVisible, { passive: true });
  void start();

  return {
    el: screen.el,
    /** Another panel of this room: opened or closed here, the socket kept. */
    follow(route: Route): boolean {
      if (route.view !== "room" || route.room !== room || route.people) return false;
      wanted = panelOf(route);
      if (wanted) {
        history.hide();
        screen.showInstead(undefined);
      }
      syncPanel();
      return true;
    },
    dispose() {
      disposed = true;
      panel?.view.dispose();
      document.removeEventListener("visibilitychange", onVisible);
      screen.dispose();
      blobUrls.dispose();
      clearTimeout(membersTimer);
      conn?.close();
    },
  };
}
