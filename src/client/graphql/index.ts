/** Typed GraphQL for the SDK: the generated operations and the helper that runs them. */
export {
  YourRoomsDocument,
  RoomPageDocument,
  PostMessageDocument,
  type YourRoomsQuery,
  type YourRoomsQueryVariables,
  type RoomPageQuery,
  type RoomPageQueryVariables,
  type PostMessageMutation,
  type PostMessageMutationVariables,
  RoomEventsDocument,
  type RoomEventsSubscription,
  type RoomEventsSubscriptionVariables,
} from "./generated/graphql.ts";
export { graphqlRequest, type TypedDocument, type VariablesOf } from "./request.ts";
