/**
 * For the scripts, the benchmark and the tests, which start servers of their own: a port to
 * start one on, and waiting until it answers. The services never need these, so they live
 * outside the files the images ship.
 */

/** A port nothing listens on right now, for servers that must know their port before they start. */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = probe;
  probe.stop(true);
  return port;
}

/** Checks every `everyMs` until `check` holds or `timeoutMs` has passed; answers whether it held. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await Bun.sleep(everyMs)) if (await check()) return true;
  return false;
}

/** Whether the service at `baseUrl` answers its liveness probe within a second. */
export const healthy = (baseUrl: string): Promise<boolean> =>
  fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1000) }).then(
    (r) => r.ok,
    () => false,
  );
