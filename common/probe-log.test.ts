import { afterAll, describe, expect, test } from "bun:test";
import { createServiceApp } from "./http";
import { Logger } from "./logger";
import { serve, type Served } from "./server";
import { logLines, tempLogsDir } from "./testing";

/**
 * A container healthcheck asks /health every 10 s: what it leaves in the log. Successful probes
 * are debug lines (IS_DEBUG=1 shows them); a failing probe and every other request stay info.
 */
const running: Served[] = [];
afterAll(() => Promise.all(running.map((s) => s.shutdown())));

async function service(options: { debug: boolean; ready: boolean }) {
  const file = `${tempLogsDir("probe")}/probe.log`;
  const log = new Logger({ file, maxBytes: 1 << 20, maxFiles: 1, debug: options.debug, stdout: false });
  const app = createServiceApp({ title: "t", description: "d", log, ready: async () => options.ready, securitySchemes: {}, tags: [] });
  const served = serve({ fetch: app.fetch as never, port: 0, close: async () => log.close() });
  running.push(served);
  const get = async (path: string) => (await fetch(`http://127.0.0.1:${served.port}${path}`)).status;
  const requests = async () => (await logLines(file)).filter((l) => l.event === "request").map((l) => `${l.level} ${l.path} ${l.status}`);
  return { get, requests };
}

describe("a probe in the log", () => {
  test("a successful /health or /ready leaves nothing at the default level; other requests do", async () => {
    const { get, requests } = await service({ debug: false, ready: true });
    expect([await get("/health"), await get("/ready"), await get("/health"), await get("/nope")]).toEqual([200, 200, 200, 404]);
    expect(await requests()).toEqual(["info /nope 404"]);
  });

  test("a failing /ready is logged as any request is", async () => {
    const { get, requests } = await service({ debug: false, ready: false });
    expect([await get("/ready"), await get("/health")]).toEqual([503, 200]);
    expect(await requests()).toEqual(["info /ready 503"]);
  });

  test("with IS_DEBUG=1 every probe is a debug line", async () => {
    const { get, requests } = await service({ debug: true, ready: true });
    expect([await get("/health"), await get("/ready")]).toEqual([200, 200]);
    expect(await requests()).toEqual(["debug /health 200", "debug /ready 200"]);
  });
});
