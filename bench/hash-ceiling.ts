/**
 * The baseline for /token: how many Bun.password.verify calls per second this machine does at
 * the cost the auth service uses (argon2id, Bun's defaults, a hash made the same way), with as
 * many in flight as wrk has connections. Prints {"perSecond": n}.
 */
const [secondsArg, concurrencyArg] = Bun.argv.slice(2);
const seconds = Number(secondsArg ?? 5);
const concurrency = Number(concurrencyArg ?? 4);
const hash = await Bun.password.hash("bench-password", "argon2id");

// As wrk does, only what completes inside the window counts, and the rate is over the window.
let done = 0;
const end = performance.now() + seconds * 1000;
async function worker(): Promise<void> {
  while (performance.now() < end) {
    if (!(await Bun.password.verify("bench-password", hash))) throw new Error("the hash did not verify");
    if (performance.now() <= end) done++;
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
console.log(JSON.stringify({ perSecond: done / seconds }));

// A module, so that top-level await is allowed.
export {};
