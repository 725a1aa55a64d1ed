import { expect, test } from "bun:test";
import { testServerUrl } from "./testing";

/**
 * postgres.js 3.4.9 queues small writes with setImmediate; when the connection closed first, the
 * queued write threw on the dropped socket outside any query and killed the process (upstream
 * porsager/postgres#1208, unfixed). The chaos run found it: a PostgreSQL restart crashed an auth
 * instance. patches/postgres@3.4.9.patch makes such a write fail its queries with
 * CONNECTION_CLOSED (a 503 to clients) instead; this test fails without the patch.
 */
test("a query on a connection whose backend PostgreSQL ended is refused with CONNECTION_CLOSED, and the process lives on", async () => {
  const proc = Bun.spawn([process.execPath, `${import.meta.dir}/closed-connection-fixture.ts`, `${testServerUrl()}`], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect({ code, err: err.slice(0, 500) }).toEqual({ code: 0, err: "" });
  const [query, pool] = out.trim().split("\n");
  expect(query).toBe("refused CONNECTION_CLOSED");
  // The pool may hand the dead connection one more query before it replaces it; then it serves.
  expect(pool).toMatch(/^pool (CONNECTION_CLOSED )?1$/);
}, 30_000);
