import { builder } from "./builder.ts";

type Me = { id: string; name: string; kind: "guest" | "user"; admin: boolean };

const UserKindEnum = builder.enumType("UserKind", { values: ["guest", "user"] as const });

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
