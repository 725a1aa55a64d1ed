import type { Stage } from "./setup";

/** The benchmark's users, bench1..benchN, all with the same password, and a token each. */
export const USERS = 20;
export const PASSWORD = "bench-password";

/**
 * Registers the users and opens their accounts with one transfer each, so that every measured
 * transfer moves money between open accounts (the path a payment takes once both have paid).
 */
export async function prepareUsers(stage: Stage): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 1; i <= USERS; i++) {
    const user = { username: `bench${i}`, email: `bench${i}@example.com`, password: PASSWORD };
    const json = { "content-type": "application/json" };
    await fetch(`${stage.authUrl}/register`, { method: "POST", headers: json, body: JSON.stringify(user) });
    const login = await fetch(`${stage.authUrl}/token`, { method: "POST", body: new URLSearchParams(user) });
    tokens.push(((await login.json()) as { access_token: string }).access_token);
  }
  for (let i = 0; i < USERS; i++) {
    const res = await fetch(`${stage.transUrl}/transfer`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokens[i]}`, "content-type": "application/json" },
      body: JSON.stringify({ receiver_username: `bench${((i + 1) % USERS) + 1}`, amount: 0.01 }),
    });
    if (res.status !== 200) throw new Error(`warm-up transfer: ${res.status} ${await res.text()}`);
  }
  return tokens;
}

const luaTokens = (tokens: string[]) => `tokens = {${tokens.map((t) => `"${t}"`).join(",")}}`;

/** wrk scripts for each measured path; users are picked at random on every request. */
export function scripts(tokens: string[]) {
  const bearer = `${luaTokens(tokens)}
bearer = function() return "Bearer " .. tokens[math.random(#tokens)] end`;
  return {
    verify: `${bearer}
request = function() return wrk.format("POST", "/verify", { ["Authorization"] = bearer() }) end`,
    bare: `${bearer}
request = function() return wrk.format("POST", "/", { ["Authorization"] = bearer() }) end`,
    transfer: `${luaTokens(tokens)}
request = function()
  local s = math.random(${USERS})
  local r = ((s + math.random(${USERS - 1}) - 1) % ${USERS}) + 1
  return wrk.format("POST", "/transfer", { ["Authorization"] = "Bearer " .. tokens[s], ["Content-Type"] = "application/json" },
    '{"receiver_username":"bench' .. r .. '","amount":0.01}')
end`,
    token: `request = function()
  return wrk.format("POST", "/token", { ["Content-Type"] = "application/x-www-form-urlencoded" },
    "username=bench" .. math.random(${USERS}) .. "&password=${PASSWORD}")
end`,
    /** bench1's history: `query` is appended to /transactions. */
    history: (query: string) => `token = "Bearer ${tokens[0]}"
request = function() return wrk.format("GET", "/transactions${query}", { ["Authorization"] = token }) end`,
  };
}

/** pgbench's version of a transfer: the very call the service makes, between the same accounts. */
export const PGBENCH_TRANSFER = `\\set s random(1, ${USERS})
\\set r 1 + ((:s + random(1, ${USERS - 1}) - 1) % ${USERS})
SELECT * FROM transfer_money(:s, 'bench' || :s, :r, 'bench' || :r, 1, 100000000000, NULL, NULL, interval '24 hours');
`;

/**
 * Fills the ledger up to `total` transfers with one set-based INSERT: pairs bench1 -> benchK
 * and benchK -> bench1 of the same amount, so that every balance stays what it was and the
 * audit still holds, and bench1's own history holds every one of them (the deep pages).
 */
export async function seedTransfers(stage: Stage, total: number): Promise<void> {
  const sql = stage.trans;
  const [{ n }] = (await sql`SELECT count(*)::int AS n FROM transfers`) as unknown as [{ n: number }];
  const pairs = Math.max(0, Math.ceil((total - n) / 2));
  await sql`
    WITH ids AS (SELECT array_agg(id ORDER BY uid) AS a FROM accounts WHERE username LIKE 'bench%')
    INSERT INTO transfers (sender_id, receiver_id, amount, created_at)
    SELECT CASE WHEN side = 0 THEN a[1] ELSE a[2 + g % ${USERS - 1}] END,
           CASE WHEN side = 0 THEN a[2 + g % ${USERS - 1}] ELSE a[1] END,
           1, now() - interval '1 day' - g * interval '1 millisecond'
    FROM ids, generate_series(1, ${pairs}::int) AS g, (VALUES (0), (1)) AS s (side)`;
  await sql`ANALYZE transfers`;
}

/** The id of the transfer `depth` places down bench1's history: the cursor for a page that deep. */
export async function cursorAtDepth(stage: Stage, depth: number): Promise<bigint> {
  const [row] = await stage.trans`
    SELECT t.id FROM transfers t JOIN accounts a ON a.id IN (t.sender_id, t.receiver_id)
    WHERE a.uid = 1 ORDER BY t.created_at DESC, t.id DESC OFFSET ${depth - 1} LIMIT 1`;
  return row!.id as bigint;
}
