import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./transaction/schema.ts",
  out: "./transaction/migrations",
});
