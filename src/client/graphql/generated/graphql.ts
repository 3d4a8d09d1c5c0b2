/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** `voice`: recorded audio, transcribed; `image`: PNG, JPEG, GIF or WebP; `file`: anything else, served as a download. */
export type AttachmentKind =
  | 'file'
  | 'image'
  | 'voice';

export type Role =
  | 'member'
  | 'moderator'
  | 'owner';

export type Visibility =
  | 'private'
  | 'public';

export type YourRoomsQueryVariables = Exact<{
  first?: number | null | undefined;
  names?: Array<string> | string | null | undefined;
}>;


export type YourRoomsQuery = { me: { rooms: Array<{ name: string, topic: string, visibility: Visibility, role: Role, lastSeq: number, readSeq: number, unread: number, lastActivityAt: number }> } };

export type RoomPageQueryVariables = Exact<{
  room: string;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type RoomPageQuery = { room: { name: string, topic: string, visibility: Visibility, lastSeq: number, memberCount: number, onlineCount: number, members: Array<{ id: string, name: string, role: Role }>, messages: { pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: number, text: string, at: number, editedAt: number | null, deleted: boolean, redacted: boolean, replyTo: number | null, author: { id: string, name: string }, reactions: Array<{ emoji: string, count: number, userIds: Array<string> }>, attachments: Array<{ id: string, kind: AttachmentKind, name: string, type: string, size: number, durationMs: number | null, waveform: Array<number> | null, path: string, transcript: { text: string, language: string | null, engine: string } | null }> } }> } } };

export type PostMessageMutationVariables = Exact<{
  room: string;
  clientId: string;
  text?: string | null | undefined;
  replyTo?: number | null | undefined;
  attachments?: Array<string | number> | string | number | null | undefined;
}>;


export type PostMessageMutation = { postMessage: { seq: number } };

export type RoomEventsSubscriptionVariables = Exact<{
  room: string;
  since?: number | null | undefined;
}>;


export type RoomEventsSubscription = { roomEvents: { seq: number, type: string, at: number, data: unknown, actor: { id: string, name: string } } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}

export const YourRoomsDocument = new TypedDocumentString(`
    query YourRooms($first: Int, $names: [String!]) {
  me {
    rooms(first: $first, names: $names) {
      name
      topic
      visibility
      role
      lastSeq
      readSeq
      unread
      lastActivityAt
    }
  }
}
    `, {"hash":"sha256:71cb11bc4ed2457f799e72f7bf8b54c84050d0e1bb3db9abe6d568326b342adb"}) as unknown as TypedDocumentString<YourRoomsQuery, YourRoomsQueryVariables>;
export const RoomPageDocument = new TypedDocumentString(`
    query RoomPage($room: String!, $first: Int = 20, $after: String) {
  room(name: $room) {
    name
    topic
    visibility
    lastSeq
    memberCount
    onlineCount
    members {
      id
      name
      role
    }
    messages(first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          text
          at
          editedAt
          deleted
          redacted
          replyTo
          author {
            id
            name
          }
          reactions {
            emoji
            count
            userIds
          }
          attachments {
            id
            kind
            name
            type
            size
            durationMs
            waveform
            path
            transcript {
              text
              language
              engine
            }
          }
        }
      }
    }
  }
}
    `, {"hash":"sha256:942b394dcfdeb871d23e473716fff7e3a8563f46f793fb6e72cf253868fb50a3"}) as unknown as TypedDocumentString<RoomPageQuery, RoomPageQueryVariables>;
export const PostMessageDocument = new TypedDocumentString(`
    mutation PostMessage($room: String!, $clientId: String!, $text: String, $replyTo: Int, $attachments: [ID!]) {
  postMessage(
    room: $room
    clientId: $clientId
    text: $text
    replyTo: $replyTo
    attachments: $attachments
  ) {
    seq
  }
}
    `, {"hash":"sha256:15ad65c6bb7fd23a759c2e29ee0bb168ab96300690419cff426845b3ef0eee9d"}) as unknown as TypedDocumentString<PostMessageMutation, PostMessageMutationVariables>;
export const RoomEventsDocument = new TypedDocumentString(`
    subscription RoomEvents($room: String!, $since: Int) {
  roomEvents(room: $room, since: $since) {
    seq
    type
    at
    actor {
      id
      name
    }
    data
  }
}
    `, {"hash":"sha256:58b42d321d9353b1d95fb34e2b3e8f3c3ab39b33b3fe832252b5a56ef7f97345"}) as unknown as TypedDocumentString<RoomEventsSubscription, RoomEventsSubscriptionVariables>;