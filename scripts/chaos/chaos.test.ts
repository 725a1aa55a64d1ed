import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { startServices, type Services } from "../../transaction/test-client";
import { checkAll } from "./check";
import type { Cluster, DatabaseServer, Instance } from "./cluster";
import type { Ctx } from "./context";
import { scanLogs } from "./log-scan";
import { Model, Violation } from "./model";
import { register } from "./ops-auth";
import { newTransfer, sendTransfer, transfer } from "./ops-money";
import { Prng } from "./prng";
import { Recorder } from "./recorder";

/**
 * The chaos run's judges must be able to fail: each invariant check is shown a system that
 * breaks it (a transfer from nowhere, a lost acknowledgement, a tampered balance, a 500, a
 * revoked token accepted, a secret in a log) and must say so.
 */
let services: Services;
let ctx: Ctx;

const instance = (kind: Instance["kind"], url: string): Instance => ({
  name: `${kind}-1`,
  kind,
  port: Number(new URL(url).port),
  metricsPort: 0,
  url,
  logsDir: "",
  up: true,
  starts: 1,
});

beforeAll(async () => {
  services = await startServices({ DEFAULT_BALANCE: "500.00" });
  const cluster = { auth: [instance("auth", services.auth.url)], transaction: [instance("transaction", services.trans.url)] } as unknown as Cluster;
  const database = { authUrl: services.auth.db.url, transUrl: services.trans.db.url } as DatabaseServer;
  ctx = { model: new Model(50_000), rec: new Recorder(), cluster, database, rng: new Prng(1), seed: 1 };
  for (let i = 0; i < 3; i++) await register(ctx, 0);
  for (let i = 0; i < 6; i++) for (const user of ctx.model.owned(0)) await transfer(ctx, user, i % 2 === 0);
}, 60_000);
afterAll(() => services.stop(), 30_000);

const violation = async (run: () => Promise<unknown>): Promise<string> => {
  try {
    await run();
  } catch (error) {
    if (error instanceof Violation) return error.invariant;
    throw error;
  }
  return "none";
};

describe("the chaos checks", () => {
  test("pass on an honest run", async () => {
    expect(await violation(() => checkAll(ctx))).toBe("none");
  }, 30_000);

  test("find a transfer in the ledger that no request asked for", async () => {
    const [a, b] = await services.trans.db.sql<{ id: bigint }[]>`SELECT id FROM accounts ORDER BY id LIMIT 2`;
    // Balanced, so that only the client's record can tell: the auditor alone would pass it.
    await services.trans.db.sql.begin(async (tx) => {
      await tx`UPDATE accounts SET balance = balance - 7 WHERE id = ${a!.id}`;
      await tx`UPDATE accounts SET balance = balance + 7 WHERE id = ${b!.id}`;
      await tx`INSERT INTO transfers (sender_id, receiver_id, amount) VALUES (${a!.id}, ${b!.id}, 7)`;
    });
    expect(await violation(() => checkAll(ctx))).toBe("no refused transfer moved money");
    await services.trans.db.sql.begin(async (tx) => {
      await tx`DELETE FROM transfers WHERE amount = 7 AND sender_id = ${a!.id} AND receiver_id = ${b!.id} AND id NOT IN (SELECT transfer_id FROM idempotency_keys)`;
      await tx`UPDATE accounts SET balance = balance + 7 WHERE id = ${a!.id}`;
      await tx`UPDATE accounts SET balance = balance - 7 WHERE id = ${b!.id}`;
    });
  }, 30_000);

  test("find an acknowledged transfer that is not in the ledger", async () => {
    const [user] = ctx.model.owned(0);
    const request = newTransfer(ctx, user!, false);
    ctx.model.acknowledge(request, 999_999);
    expect(await violation(() => checkAll(ctx))).toBe("every acknowledged transfer is in the history");
    ctx.model.acked.delete(999_999);
    request.state = "refused";
  }, 30_000);

  test("find, through bun run audit, a balance that is not opening + received - sent", async () => {
    await services.trans.db.sql`UPDATE accounts SET balance = balance + 1 WHERE id = (SELECT min(id) FROM accounts)`;
    expect(await violation(() => checkAll(ctx))).toBe("the auditor (bun run audit) finds the ledger balanced");
    await services.trans.db.sql`UPDATE accounts SET balance = balance - 1 WHERE id = (SELECT min(id) FROM accounts)`;
  }, 30_000);

  test("find a refused transfer whose money moved (the client saw it refused)", async () => {
    const [user] = ctx.model.owned(0);
    const request = newTransfer(ctx, user!, true);
    request.receiver = ctx.model.owned(0)[1]!.name;
    const token = user!.sessions[0]!.accessTokens[0]!;
    await sendTransfer(ctx, request, token);
    expect(request.state).toBe("acked");
    ctx.model.acked.delete(request.id!);
    request.state = "refused";
    expect(await violation(() => checkAll(ctx))).toBe("no refused transfer moved money");
  }, 30_000);
});

describe("the checks on each answer", () => {
  test("a token revoked before the request started must not be accepted", async () => {
    const rec = new Recorder();
    const user = ctx.model.owned(0)[2]!;
    const token = user.sessions[0]!.accessTokens[0]!;
    rec.revoke(token, "a test");
    await Bun.sleep(5);
    expect(await violation(() => rec.send(ctx.cluster.auth[0]!, "verify", { method: "POST", path: "/verify", token }))).toBe(
      "no token of an ended session or changed password is accepted",
    );
  });

  test("a 500 is a violation; a documented 503 is not", async () => {
    const codes = [500, 503];
    const server = Bun.serve({ port: 0, fetch: () => Response.json({ detail: "x", code: "database_unavailable" }, { status: codes.shift() }) });
    const fake = instance("transaction", `http://127.0.0.1:${server.port}`);
    try {
      const rec = new Recorder();
      expect(await violation(() => rec.send(fake, "any", { path: "/account" }))).toBe("no request ever gets a 500");
      expect(await violation(() => rec.send(fake, "any", { path: "/account" }))).toBe("none");
    } finally {
      server.stop(true);
    }
  });

  test("the log scan finds a password, a token's signature, a hash, and a 500", async () => {
    const cases: [string, string][] = [
      ["a password", '{"event":"x","note":"pw-secret-one"}'],
      ["a signature", '{"event":"x","sig":"abcdefghijklmnopqrstuvwxyz0123456789"}'],
      ["any JWT", '{"event":"x","t":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"}'],
      ["an argon2 hash", '{"event":"x","h":"$argon2id$v=19$m=65536,t=2,p=1$abc$def"}'],
      ["a 500", '{"event":"request","status":500}'],
      ["an unhandled error", '{"event":"unhandled_error"}'],
    ];
    for (const [name, line] of cases) {
      const dir = mkdtempSync(`${tmpdir()}/chaos-scan-`);
      mkdirSync(`${dir}/auth-1`);
      writeFileSync(`${dir}/auth-1/auth_service.log`, `{"event":"started"}\n${line}\n`);
      const secrets = ["pw-secret-one", "header.payload.abcdefghijklmnopqrstuvwxyz0123456789"];
      expect({ name, found: await violation(async () => scanLogs(dir, secrets)) }).not.toEqual({ name, found: "none" });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
