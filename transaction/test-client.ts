import { SignJWT } from "jose";
import { registerAndLogin, startAuthService, TEST_SECRET, type RunningAuth } from "../auth/test-server";
import { request } from "../common/testing";
import { startTransactionService, type RunningTransaction } from "./test-server";

export { logLines, random, request, type Answer, type Call } from "../common/testing";

export interface User {
  id: number;
  username: string;
  token: string;
}

export const transfer = (url: string, from: User | string, body: unknown, headers: Record<string, string> = {}) =>
  request(url, "POST", "/transfer", { json: body, token: typeof from === "string" ? from : from.token, headers });

export const history = (url: string, user: User, query = "") => request(url, "GET", `/transactions${query}`, { token: user.token });

export const account = (url: string, user: User) => request(url, "GET", "/account", { token: user.token });

/** The user's balance as GET /account reports it (opening the account if need be). */
export async function balance(url: string, user: User): Promise<number> {
  const answer = await account(url, user);
  if (answer.status !== 200) throw new Error(`GET /account for ${user.username}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.balance;
}

const NOW = () => Math.floor(Date.now() / 1000);

/** A token as the auth service would sign it (or, with other options, as it never would). */
export function forgeToken(sub: string, { secret = TEST_SECRET, iat = NOW(), exp = NOW() + 600 } = {}): Promise<string> {
  return new SignJWT({ ver: 0, iat, exp }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setSubject(sub).sign(new TextEncoder().encode(secret));
}

/** Both services, each really serving HTTP on its own fresh database. */
export interface Services {
  auth: RunningAuth;
  trans: RunningTransaction;
  stop(): Promise<void>;
}

export async function startServices(transEnv: Record<string, string> = {}): Promise<Services> {
  const auth = await startAuthService();
  const trans = await startTransactionService(auth.url, transEnv);
  return {
    auth,
    trans,
    async stop() {
      await trans.stop();
      await auth.stop();
    },
  };
}

/** Registers and logs in each name, concurrently (hashing a password is the slow part). */
export async function registerUsers(authUrl: string, ...names: string[]): Promise<User[]> {
  return Promise.all(
    names.map(async (name) => {
      const { token, user } = await registerAndLogin(authUrl, name);
      return { id: user.id, username: user.username, token };
    }),
  );
}

/**
 * Runs `count` calls with at most `inFlight` at once. The test and both services share one
 * process, and Bun's fetch allows 256 connections per process by default: firing everything at
 * once would leave the transaction service no connection for its own calls to /verify.
 */
export async function inParallel<T>(count: number, inFlight: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  return results;
}

/** How many transfers the ledger holds: a refused request must leave this unchanged. */
export async function transferCount(trans: RunningTransaction): Promise<number> {
  const [row] = await trans.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM transfers`;
  return row!.n;
}
