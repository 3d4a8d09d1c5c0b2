import { UserKind, type User } from "../protocol/index.ts";
import { builder } from "./builder.ts";

type Me = { id: string; name: string; kind: User["kind"]; admin: boolean };

// Every kind of the wire's UserKind: a service account signed in with its API key is one too.
const UserKindEnum = builder.enumType("UserKind", { values: UserKind.options });

export const MeRef = builder.objectRef<Me>("Me").implement({
  description: "The signed-in user (GET /api/auth/me).",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    kind: t.expose("kind", { type: UserKindEnum }),
    admin: t.exposeBoolean("admin"),
  }),
});

builder.queryFields((t) => ({
  me: t.field({
    type: MeRef,
    resolve: async (_, __, ctx) => {
      const { id, name, kind, admin } = await ctx.actor();
      return { id, name, kind: kind ?? "guest", admin: admin === true };
    },
  }),
}));
