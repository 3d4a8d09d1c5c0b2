import { Role, type Member, type UserRef } from "../protocol/index.ts";
import { builder } from "./builder.ts";

export const RoleEnum = builder.enumType("Role", { values: Role.options });

export const UserRef_ = builder.objectRef<UserRef>("User").implement({
  description: "A user as events and messages name them.",
  fields: (t) => ({ id: t.exposeID("id"), name: t.exposeString("name") }),
});

export const MemberRef = builder.objectRef<Member>("Member").implement({
  description: "A member of a room and their role.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    role: t.expose("role", { type: RoleEnum }),
    joinedAt: t.expose("joinedAt", { type: "Timestamp" }),
    mutedUntil: t.expose("mutedUntil", { type: "Timestamp", nullable: true }),
  }),
});
