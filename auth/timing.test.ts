import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { login } from "./test-client";
import { registerAndLogin, startAuthService, type RunningAuth } from "./test-server";

// Each request that checks a password costs argon2id 50 to 200 ms on a small, busy machine.
setDefaultTimeout(30_000);

let auth: RunningAuth;
beforeAll(async () => {
  auth = await startAuthService({ LOGIN_MAX_FAILURES_PER_ACCOUNT: "100" });
  await registerAndLogin(auth.url, "alice");
});
afterAll(() => auth.stop());

async function timedLogin(username: string): Promise<number> {
  const started = performance.now();
  const answer = await login(auth.url, username, "wrong-password");
  const elapsed = performance.now() - started;
  expect(answer.body.code).toBe("invalid_credentials");
  return elapsed;
}

const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)]!;

test("a login for an unknown user takes as long as one for a known user with a wrong password", async () => {
  // argon2id dominates both; the runs alternate so that a busy moment of the machine hits both
  // sides alike, and medians ignore the odd outlier. A missing dummy hash would make the
  // unknown user's login a few milliseconds against a hundred, far outside these bounds.
  await timedLogin("ghost-warm-up");
  await timedLogin("alice");
  const unknown: number[] = [];
  const known: number[] = [];
  for (let i = 0; i < 7; i++) {
    unknown.push(await timedLogin(`ghost${i}`));
    known.push(await timedLogin("alice"));
  }
  const ratio = median(unknown) / median(known);
  expect(ratio).toBeGreaterThan(0.6);
  expect(ratio).toBeLessThan(1.6);
});
