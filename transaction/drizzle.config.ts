import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./transaction/tables.ts",
  out: "./transaction/migrations",
});
