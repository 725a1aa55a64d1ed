import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import type { ServedForTest } from "../common/testing";
import { post } from "./test-client";
import { startAuthService, startSecondInstance, type RunningAuth } from "./test-server";

// Sixty registrations hash up to sixty passwords on a small, busy machine.
setDefaultTimeout(60_000);

const BURST = 60;
const LIMIT = 20;
const WINDOW_SECONDS = 60 * 60;

let auth: RunningAuth;
let second: ServedForTest;
beforeAll(async () => {
  auth = await startAuthService({ REGISTRATION_MAX_PER_ADDRESS: String(LIMIT), TRUST_PROXY: "1" });
  second = startSecondInstance(auth);
});
afterAll(async () => {
  await second.stop();
  await auth.stop();
});

const register = (url: string, username: string, address: string, email = `${username}@example.com`) =>
  post(url, "/register", { json: { username, email, password: "password-123" }, headers: { "x-forwarded-for": address } });

describe("registrations per client address", () => {
  test(`${BURST} simultaneous registrations from one address at two instances: exactly ${LIMIT} are made`, async () => {
    const answers = await Promise.all(Array.from({ length: BURST }, (_, i) => register(i % 2 ? second.url : auth.url, `burst${i}`, "198.51.100.1")));
    const counts: Record<string, number> = {};
    for (const { status, body } of answers) counts[`${status} ${body.code ?? "ok"}`] = (counts[`${status} ${body.code ?? "ok"}`] ?? 0) + 1;
    expect(counts).toEqual({ "200 ok": LIMIT, "429 too_many_attempts": BURST - LIMIT });
    const [row] = await auth.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM users WHERE username LIKE 'burst%'`;
    expect(row!.n).toBe(LIMIT);
    const refused = answers.find((a) => a.status === 429)!;
    expect(refused.body.detail).toBe("Too many registrations from this address, try again later");
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(WINDOW_SECONDS - 120);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
  });

  test("another address still registers", async () => {
    expect((await register(auth.url, "elsewhere", "198.51.100.2")).status).toBe(200);
  });

  test("a name already taken counts too, so the limit also bounds how fast names can be probed", async () => {
    expect((await register(auth.url, "prober", "198.51.100.3")).status).toBe(200);
    for (let i = 1; i < LIMIT; i++) expect((await register(auth.url, "prober", "198.51.100.3", `p${i}@example.com`)).body.code).toBe("username_taken");
    expect((await register(auth.url, "prober", "198.51.100.3", "last@example.com")).status).toBe(429);
  });
});

describe("a taken username or email", () => {
  test("is refused before any password is hashed: far faster than a registration that hashes", async () => {
    const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const fresh: number[] = [];
    const taken: number[] = [];
    for (let i = 0; i < 5; i++) {
      fresh.push((await register(auth.url, `timed${i}`, `198.51.100.${10 + i}`)).elapsedMs);
      const answer = await register(auth.url, `TIMED${i}`, `198.51.100.${20 + i}`, `other${i}@example.com`);
      expect(answer.body.code).toBe("username_taken");
      taken.push(answer.elapsedMs);
      const email = await register(auth.url, `another${i}`, `198.51.100.${30 + i}`, `timed${i}@example.com`);
      expect(email.body.code).toBe("email_taken");
      taken.push(email.elapsedMs);
    }
    // argon2id takes tens of milliseconds at least; a lookup by index takes about one.
    expect(median(taken)).toBeLessThan(median(fresh) / 3);
  });
});
