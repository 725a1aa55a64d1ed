import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./auth/tables.ts",
  out: "./auth/migrations",
});
