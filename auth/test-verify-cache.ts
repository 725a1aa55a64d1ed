import { expect } from "bun:test";
import { Logger } from "../common/logger";
import { serve } from "../common/server";
import { tempLogsDir } from "../common/testing";
import { connect } from "../db/connect";
import { until } from "../scripts/processes";
import { tokenService } from "./access-tokens";
import { createAuthApp } from "./app";
import { startAuthService, type RunningAuth } from "./test-server";
import { verifyCache, type VerifyCache } from "./verify-cache";

export interface Instance {
  url: string;
  cache: VerifyCache;
}

/**
 * What the tests of /verify's memory share: instance A is the usual test server; instances B are
 * built on the same database, each with its own pool, LISTEN connection and cache, which the
 * tests look into. `stop` ends them all and drops the database.
 */
export async function verifyTestbed() {
  const a: RunningAuth = await startAuthService();
  const stops: (() => Promise<void>)[] = [];

  async function instance(maxEntries = 10_000): Promise<Instance> {
    const sql = connect(a.db.url, { max: 5 });
    const log = new Logger({ file: `${tempLogsDir("auth-b")}/auth.log`, maxBytes: 1 << 20, maxFiles: 1, debug: false, stdout: false });
    const background: (() => Promise<void>)[] = [];
    const onShutdown = (stop: () => Promise<void>) => void background.push(stop);
    const cache = verifyCache({ sql, log, maxEntries, onShutdown });
    const app = createAuthApp({ sql, config: a.config, log, onShutdown, cache });
    const served = serve({
      fetch: app.fetch as never,
      port: 0,
      close: async () => {
        await Promise.all(background.map((stop) => stop()));
        await sql.end({ timeout: 1 });
      },
    });
    stops.push(served.shutdown);
    expect(await until(() => cache.users.isTrusted, 5000, 10)).toBe(true);
    return { url: `http://127.0.0.1:${served.port}`, cache };
  }

  /** A token as the auth service issues it, for any user, version and session. */
  const tokenFor = async (id: bigint, version: number, sid: string) =>
    (await tokenService(a.config, undefined as never).issue({ id, token_version: version }, sid)).access_token;

  /** `count` users inserted straight into the database (no password hashing), each with a live session and a token. */
  async function users(count: number, prefix: string): Promise<{ id: bigint; sid: string; token: string }[]> {
    const rows = await a.db.sql<{ id: bigint; token_version: number; sid: string }[]>`
      WITH u AS (
        INSERT INTO users (username, email, password_hash)
        SELECT ${prefix} || g, ${prefix} || g || '@example.com', 'not-a-hash' FROM generate_series(1, ${count}::int) AS g
        RETURNING id, token_version)
      INSERT INTO sessions (id, user_id, refresh_token_hash, expires_at, absolute_expires_at, client_address, user_agent)
      SELECT gen_random_uuid(), u.id, 'h', now() + interval '1 day', now() + interval '1 day', '127.0.0.1', 'test' FROM u
      RETURNING user_id AS id, id AS sid, 0 AS token_version`;
    return Promise.all(rows.map(async (row) => ({ id: row.id, sid: row.sid, token: await tokenFor(row.id, row.token_version, row.sid) })));
  }

  return {
    a,
    instance,
    users,
    tokenFor,
    async stop() {
      await Promise.all(stops.map((stop) => stop()));
      await a.stop();
    },
  };
}

export const verify = (url: string, token: string) =>
  fetch(`${url}/verify`, { method: "POST", headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as { id?: number; username?: string },
  }));

export const percentile = (values: number[], p: number) => [...values].sort((x, y) => x - y)[Math.ceil((p / 100) * values.length) - 1]!;
