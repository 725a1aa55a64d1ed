import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { auditLedger } from "./audit";
import { balance, inParallel, logLines, random, registerUsers, startServices, transfer, type Answer, type Services, type User } from "./test-client";

/**
 * Many transfers at once through both services, checked against the invariants: no overdraft,
 * no lost update, no deadlock surfacing as an error, and money conserved (the audit).
 */
const IN_FLIGHT = 100;

let services: Services;
let users: User[];
const url = () => services.trans.url;

beforeAll(async () => {
  services = await startServices();
  users = await registerUsers(services.auth.url, "spender", "payee1", "payee2", "payee3", "trader1", "trader2", "trader3", "trader4", "trader5");
}, 30_000);
afterAll(() => services.stop(), 30_000);

async function expectAuditPasses() {
  const audit = await auditLedger(services.trans.db.sql);
  expect(audit.violations).toEqual([]);
  expect(audit.ok).toBe(true);
}

const statuses = (answers: Answer[]) =>
  answers.reduce<Record<string, number>>((counts, { status, body }) => {
    const name = `${status}${body?.code ? ` ${body.code}` : ""}`;
    counts[name] = (counts[name] ?? 0) + 1;
    return counts;
  }, {});

describe("concurrent transfers", () => {
  test("300 at once from an account that can afford 100: exactly 100 succeed and the balance ends at 0", async () => {
    const [spender, ...receivers] = users.slice(0, 4);
    const answers = await inParallel(300, IN_FLIGHT, (i) =>
      transfer(url(), spender!, { receiver_username: receivers[i % receivers.length]!.username, amount: 10 }),
    );
    expect(statuses(answers)).toEqual({ "200": 100, "400 insufficient_funds": 200 });
    expect(await balance(url(), spender!)).toBe(0);
    const received = await Promise.all(receivers.map((receiver) => balance(url(), receiver)));
    expect(received.reduce((sum, b) => sum + b, 0)).toBe(3000 + 1000);
    await expectAuditPasses();
  }, 30_000);

  test("1,000 at once in both directions among 5 users: no 5xx, no deadlock, money conserved", async () => {
    const five = users.slice(4);
    const next = random(42);
    const answers = await inParallel(1000, IN_FLIGHT, () => {
      const from = five[Math.floor(next() * 5)]!;
      const others = five.filter((user) => user !== from);
      const to = others[Math.floor(next() * others.length)]!;
      return transfer(url(), from, { receiver_username: to.username, amount: Math.floor(next() * 5000 + 1) / 100 });
    });
    const counts = statuses(answers);
    expect(Object.keys(counts).filter((status) => status !== "200" && status !== "400 insufficient_funds")).toEqual([]);
    expect(counts["200"]).toBeGreaterThan(500);

    const problems = (await logLines(services.trans.logFile)).filter(
      (line) => line.event === "unhandled_error" || line.pg_code === "40P01" || JSON.stringify(line).includes("deadlock"),
    );
    expect(problems).toEqual([]);
    await expectAuditPasses();
    const balancesMinor = await Promise.all(five.map(async (user) => Math.round((await balance(url(), user)) * 100)));
    expect(balancesMinor.reduce((sum, b) => sum + b, 0)).toBe(5 * 100_000);
  }, 30_000);

  test("the audit command, run as `bun transaction/audit.ts`, finds the ledger balanced and exits 0", async () => {
    const audit = Bun.spawn(["bun", `${import.meta.dir}/audit.ts`], {
      env: { ...process.env, TRANS_DATABASE_URL: services.trans.db.url },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [exitCode, stdout, stderr] = await Promise.all([audit.exited, new Response(audit.stdout).text(), new Response(audit.stderr).text()]);
    expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: "" });
    expect(stdout).toContain("audit: 9 accounts checked");
    expect(stdout).toContain("audit: ok");
  }, 30_000);
});
