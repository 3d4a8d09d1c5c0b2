import type { RoomInfo, RoomList, RoomSort } from "../client/index.ts";

/**
 * The room list as paged from the server: one walk (a sort and a name prefix) at a time. A new
 * sort or filter starts a new walk; a page that answers an older walk is dropped. Pure.
 */
export type DirectoryState = {
  readonly sort: RoomSort;
  readonly prefix: string;
  /** Which walk this is: pages carry it, so that a late page of an older walk is ignored. */
  readonly walk: number;
  readonly rooms: readonly RoomInfo[];
  /** Where the next page starts; null at the end; undefined before the first page. */
  readonly cursor: string | null | undefined;
  readonly loading: boolean;
};

export const emptyDirectory: DirectoryState = {
  sort: "activity",
  prefix: "",
  walk: 0,
  rooms: [],
  cursor: undefined,
  loading: false,
};

/**
 * A new walk (another sort or prefix, or a refresh): the first page loads, and the rooms shown
 * stay until it replaces them, so that a refresh does not blank the list meanwhile.
 */
export const newWalk = (state: DirectoryState, sort: RoomSort, prefix: string): DirectoryState => ({
  ...emptyDirectory,
  rooms: state.rooms,
  sort,
  prefix,
  walk: state.walk + 1,
});

/** Whether another page should be asked for now (none on its way, and not at the end). */
export const wantsPage = (state: DirectoryState): boolean =>
  !state.loading && state.cursor !== null;

export const loading = (state: DirectoryState): DirectoryState => ({ ...state, loading: true });

/**
 * A page arrived for `walk`: the first replaces what was shown, later ones add to it (a room
 * already listed, which the server never repeats, is kept once).
 */
export function pageArrived(state: DirectoryState, walk: number, page: RoomList): DirectoryState {
  if (walk !== state.walk) return state;
  const shown = state.cursor === undefined ? [] : state.rooms;
  const seen = new Set(shown.map((room) => room.name));
  const fresh = page.rooms.filter((room) => !seen.has(room.name));
  return {
    ...state,
    rooms: [...shown, ...fresh],
    cursor: page.nextCursor ?? null,
    loading: false,
  };
}

/** A page failed: loading stops, and the same page may be asked for again. */
export const pageFailed = (state: DirectoryState, walk: number): DirectoryState =>
  walk === state.walk ? { ...state, loading: false } : state;
