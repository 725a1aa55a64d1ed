import { afterAll } from "bun:test";
import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { startEmbedded } from "./embedded";

/**
 * Preloaded by `bun test` (bunfig.toml). With TEST_DATABASE_URL set the suite uses that server;
 * otherwise it starts a throwaway embedded PostgreSQL once for the whole run. Either way each
 * test file creates and drops its own databases on it (see db/testing.ts).
 */
if (!process.env.TEST_DATABASE_URL) {
  const parent = mkdtempSync(`${tmpdir()}/pg-test-`);
  // mkdtemp makes the folder private; as root, PostgreSQL runs as another user who must enter it.
  chmodSync(parent, 0o755);
  const server = await startEmbedded({ dir: `${parent}/data`, persistent: false });
  process.env.TEST_DATABASE_URL = server.url;
  afterAll(() => server.stop());
}
