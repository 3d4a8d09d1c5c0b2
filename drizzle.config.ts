import { defineConfig } from "drizzle-kit";

/** `npx drizzle-kit generate` writes SQL migrations for src/db/schema.ts into migrations/. */
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: "./migrations",
});
