import { connect } from "./connect";

/**
 * Run by db/closed-connection.test.ts as a process of its own, since what it guards against is
 * a crash of the whole process: a query on a connection whose backend PostgreSQL has just ended
 * (as a restart ends every one). Prints what the query got; a crash prints nothing and exits 1.
 */
const url = process.argv[2]!;
const sql = connect(url, { max: 2 });
const admin = connect(url, { max: 1 });
// A reserved connection is pinned, so the next query surely goes to the one whose backend died.
const reserved = await sql.reserve();
const [row] = await reserved<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
await admin`SELECT pg_terminate_backend(${row!.pid})`;
await Bun.sleep(200);
console.log(
  await reserved`SELECT 1`.then(
    () => "answered",
    (error: { code?: string }) => `refused ${error.code}`,
  ),
);
reserved.release();
// The pool lives on too: the dead connection is dropped from it and a fresh one serves.
const tries: string[] = [];
for (let i = 0; i < 3 && tries.at(-1) !== "1"; i++)
  tries.push(
    await sql`SELECT 1 AS one`.then(
      ([r]) => String(r?.one),
      (error: { code?: string }) => String(error.code),
    ),
  );
console.log(`pool ${tries.join(" ")}`);
await sql.end({ timeout: 1 });
await admin.end({ timeout: 1 });
