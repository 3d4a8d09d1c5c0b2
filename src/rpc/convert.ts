import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  attachmentPath,
  type AttachmentKind as AttachmentKindName,
  type Ban as BanJson,
  type MessageAttachment,
  type Transcript as TranscriptJson,
  type ChainReport as ChainReportJson,
  type Member as MemberJson,
  type Message as MessageJson,
  type Role as RoleName,
  type RoomEvent,
  type RoomInfo,
  type RoomSort as RoomSortName,
  type UserRef,
  type Visibility as VisibilityName,
} from "../protocol/index.ts";
import { ChainReportSchema, type ChainReport } from "./gen/edgechat/v1/admin_pb.js";
import { RoomSort } from "./gen/edgechat/v1/rooms_pb.js";
import {
  AttachmentKind,
  AttachmentSchema,
  BanSchema,
  EventSchema,
  MemberSchema,
  MessageSchema,
  Role,
  RoomSchema,
  TranscriptSchema,
  UserSchema,
  Visibility,
  type Attachment,
  type Ban,
  type Event,
  type Member,
  type Message,
  type Room,
  type Transcript,
  type User,
} from "./gen/edgechat/v1/types_pb.js";

// The contract's JSON (src/protocol/) as protobuf messages, and protobuf's enums and times as
// the contract's: pure, one function per type, so that every service converts the same way.

const ROLES: Record<RoleName, Role> = {
  member: Role.MEMBER,
  moderator: Role.MODERATOR,
  owner: Role.OWNER,
};
const VISIBILITIES: Record<VisibilityName, Visibility> = {
  public: Visibility.PUBLIC,
  private: Visibility.PRIVATE,
};
const KINDS: Record<AttachmentKindName, AttachmentKind> = {
  voice: AttachmentKind.VOICE,
  image: AttachmentKind.IMAGE,
  file: AttachmentKind.FILE,
};
const SORTS: Record<RoomSortName, RoomSort> = {
  activity: RoomSort.ACTIVITY,
  newest: RoomSort.NEWEST,
  members: RoomSort.MEMBERS,
};

/** The contract's name of a protobuf enum value; undefined for UNSPECIFIED (the default). */
function nameOf<N extends string, V extends number>(table: Record<N, V>, value: V): N | undefined {
  return (Object.keys(table) as N[]).find((name) => table[name] === value);
}

export const roleName = (role: Role) => nameOf(ROLES, role);
export const toVisibility = (name: VisibilityName): Visibility => VISIBILITIES[name];
export const visibilityName = (visibility: Visibility) => nameOf(VISIBILITIES, visibility);
export const sortName = (sort: RoomSort) => nameOf(SORTS, sort);

export const timestamp = (ms: number): Timestamp => timestampFromMs(ms);
export const millis = (at: Timestamp): number => timestampMs(at);

/** A seq or message id on the wire (uint64). */
export const seq = (n: number): bigint => BigInt(n);
/**
 * A seq or message id from a request, or undefined past what the contract's numbers hold (no
 * room gets near 2⁵³ events; such a number names nothing).
 */
export const seqFrom = (n: bigint): number | undefined =>
  n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : undefined;

export const toUser = ({ id, name }: UserRef): User => create(UserSchema, { id, name });

export function toRoom(room: RoomInfo): Room {
  return create(RoomSchema, {
    name: room.name,
    topic: room.topic,
    visibility: VISIBILITIES[room.visibility],
    createdAt: timestamp(room.createdAt),
    lastSeq: seq(room.lastSeq),
    memberCount: room.members,
    onlineCount: room.online,
    slowModeSeconds: room.slowModeSeconds ?? 0,
    shards: room.shards ?? 0,
  });
}

export function toMember(member: MemberJson): Member {
  return create(MemberSchema, {
    id: member.id,
    name: member.name,
    role: ROLES[member.role],
    joinedAt: timestamp(member.joinedAt),
    ...(member.mutedUntil === undefined ? {} : { mutedUntil: timestamp(member.mutedUntil) }),
  });
}

export const toBan = (ban: BanJson): Ban =>
  create(BanSchema, { id: ban.id, name: ban.name ?? "", at: timestamp(ban.at) });

/** A message of `room` (whose name its attachments' paths need). */
export function toMessage(message: MessageJson, room: string): Message {
  return create(MessageSchema, {
    id: seq(message.id),
    author: toUser(message.author),
    text: message.text,
    at: timestamp(message.at),
    ...(message.editedAt === undefined ? {} : { editedAt: timestamp(message.editedAt) }),
    replyTo: seq(message.replyTo ?? 0),
    reactions: Object.entries(message.reactions).map(([emoji, userIds]) => ({ emoji, userIds })),
    deleted: message.deleted === true,
    redacted: message.redacted === true,
    attachments: (message.attachments ?? []).map((attachment) => toAttachment(attachment, room)),
  });
}

export function toAttachment(attachment: MessageAttachment, room: string): Attachment {
  return create(AttachmentSchema, {
    id: attachment.id,
    kind: KINDS[attachment.kind],
    name: attachment.name,
    type: attachment.type,
    size: BigInt(attachment.size),
    durationMs: attachment.durationMs ?? 0,
    waveform: attachment.waveform ?? [],
    ...(attachment.transcript === undefined
      ? {}
      : { transcript: toTranscript(attachment.transcript) }),
    path: attachmentPath(room, attachment.id),
  });
}

export const toTranscript = (transcript: TranscriptJson): Transcript =>
  create(TranscriptSchema, {
    text: transcript.text,
    segments: (transcript.segments ?? []).map(({ start, end, text }) => ({
      startSeconds: start,
      endSeconds: end,
      text,
    })),
    language: transcript.language ?? "",
    engine: transcript.engine,
    failed: transcript.failed ?? "",
  });

export function toEvent(event: RoomEvent): Event {
  return create(EventSchema, {
    seq: seq(event.seq),
    id: event.id,
    type: event.type,
    at: timestamp(event.at),
    actor: toUser(event.actor),
    data: event.data as JsonObject,
    hash: event.hash ?? "",
    prevHash: event.prevHash ?? "",
    redacted: event.redacted === true,
  });
}

export function toChainReport(report: ChainReportJson): ChainReport {
  return create(
    ChainReportSchema,
    report.ok
      ? {
          ok: true,
          lastSeq: seq(report.lastSeq),
          head: report.head,
          ...(report.anchoredSeq === undefined ? {} : { anchoredSeq: seq(report.anchoredSeq) }),
        }
      : { ok: false, seq: seq(report.seq), problem: report.problem },
  );
}
