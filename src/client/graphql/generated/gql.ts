/* eslint-disable */
import * as types from './graphql.ts';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query YourRooms($first: Int, $names: [String!]) {\n  me {\n    rooms(first: $first, names: $names) {\n      name\n      topic\n      visibility\n      role\n      lastSeq\n      readSeq\n      unread\n      lastActivityAt\n    }\n  }\n}\n\nquery RoomPage($room: String!, $first: Int = 20, $after: String) {\n  room(name: $room) {\n    name\n    topic\n    visibility\n    lastSeq\n    memberCount\n    onlineCount\n    members {\n      id\n      name\n      role\n    }\n    messages(first: $first, after: $after) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          text\n          at\n          editedAt\n          deleted\n          redacted\n          replyTo\n          author {\n            id\n            name\n          }\n          reactions {\n            emoji\n            count\n            userIds\n          }\n          attachments {\n            id\n            kind\n            name\n            type\n            size\n            durationMs\n            waveform\n            path\n            transcript {\n              text\n              language\n              engine\n            }\n          }\n        }\n      }\n    }\n  }\n}\n\nmutation PostMessage($room: String!, $clientId: String!, $text: String, $replyTo: Int, $attachments: [ID!]) {\n  postMessage(\n    room: $room\n    clientId: $clientId\n    text: $text\n    replyTo: $replyTo\n    attachments: $attachments\n  ) {\n    seq\n  }\n}\n\nsubscription RoomEvents($room: String!, $since: Int) {\n  roomEvents(room: $room, since: $since) {\n    seq\n    type\n    at\n    actor {\n      id\n      name\n    }\n    data\n  }\n}": typeof types.YourRoomsDocument,
};
const documents: Documents = {
    "query YourRooms($first: Int, $names: [String!]) {\n  me {\n    rooms(first: $first, names: $names) {\n      name\n      topic\n      visibility\n      role\n      lastSeq\n      readSeq\n      unread\n      lastActivityAt\n    }\n  }\n}\n\nquery RoomPage($room: String!, $first: Int = 20, $after: String) {\n  room(name: $room) {\n    name\n    topic\n    visibility\n    lastSeq\n    memberCount\n    onlineCount\n    members {\n      id\n      name\n      role\n    }\n    messages(first: $first, after: $after) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          text\n          at\n          editedAt\n          deleted\n          redacted\n          replyTo\n          author {\n            id\n            name\n          }\n          reactions {\n            emoji\n            count\n            userIds\n          }\n          attachments {\n            id\n            kind\n            name\n            type\n            size\n            durationMs\n            waveform\n            path\n            transcript {\n              text\n              language\n              engine\n            }\n          }\n        }\n      }\n    }\n  }\n}\n\nmutation PostMessage($room: String!, $clientId: String!, $text: String, $replyTo: Int, $attachments: [ID!]) {\n  postMessage(\n    room: $room\n    clientId: $clientId\n    text: $text\n    replyTo: $replyTo\n    attachments: $attachments\n  ) {\n    seq\n  }\n}\n\nsubscription RoomEvents($room: String!, $since: Int) {\n  roomEvents(room: $room, since: $since) {\n    seq\n    type\n    at\n    actor {\n      id\n      name\n    }\n    data\n  }\n}": types.YourRoomsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query YourRooms($first: Int, $names: [String!]) {\n  me {\n    rooms(first: $first, names: $names) {\n      name\n      topic\n      visibility\n      role\n      lastSeq\n      readSeq\n      unread\n      lastActivityAt\n    }\n  }\n}\n\nquery RoomPage($room: String!, $first: Int = 20, $after: String) {\n  room(name: $room) {\n    name\n    topic\n    visibility\n    lastSeq\n    memberCount\n    onlineCount\n    members {\n      id\n      name\n      role\n    }\n    messages(first: $first, after: $after) {\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          text\n          at\n          editedAt\n          deleted\n          redacted\n          replyTo\n          author {\n            id\n            name\n          }\n          reactions {\n            emoji\n            count\n            userIds\n          }\n          attachments {\n            id\n            kind\n            name\n            type\n            size\n            durationMs\n            waveform\n            path\n            transcript {\n              text\n              language\n              engine\n            }\n          }\n        }\n      }\n    }\n  }\n}\n\nmutation PostMessage($room: String!, $clientId: String!, $text: String, $replyTo: Int, $attachments: [ID!]) {\n  postMessage(\n    room: $room\n    clientId: $clientId\n    text: $text\n    replyTo: $replyTo\n    attachments: $attachments\n  ) {\n    seq\n  }\n}\n\nsubscription RoomEvents($room: String!, $since: Int) {\n  roomEvents(room: $room, since: $since) {\n    seq\n    type\n    at\n    actor {\n      id\n      name\n    }\n    data\n  }\n}"): typeof import('./graphql.ts').YourRoomsDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
