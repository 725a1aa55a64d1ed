import { chmodSync, chownSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/**
 * What scripts/compose.e2e.ts needs from Docker: a fresh copy of the repository, the compose
 * command that answers here, and small readers of `docker inspect`. Every command runs with a
 * clean environment, so a `.env` that Bun loaded into this process never reaches compose: the
 * copy's own `.env` is all it reads, as on a user's machine.
 */

const repo = resolve(import.meta.dir, "..");

export interface Ran {
  code: number;
  out: string;
}

const cleanEnv = () =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => k === "PATH" || k === "HOME" || k.startsWith("DOCKER_"))) as Record<string, string>;

export async function run(cmd: string[], cwd = repo): Promise<Ran> {
  const proc = Bun.spawn(cmd, { cwd, env: cleanEnv(), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out: out + err };
}

/** Runs and throws with the output unless the command succeeds; answers stdout and stderr. */
export async function must(cmd: string[], cwd = repo): Promise<string> {
  const { code, out } = await run(cmd, cwd);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}:\n${out.slice(-4000)}`);
  return out.trim();
}

/** `docker compose` (v2) or `docker-compose` (v1), whichever answers. */
export async function composeCommand(): Promise<string[]> {
  if ((await run(["docker", "compose", "version"])).code === 0) return ["docker", "compose"];
  if ((await run(["docker-compose", "version"])).code === 0) return ["docker-compose"];
  throw new Error("neither `docker compose` nor `docker-compose` answers; see /work/shared/docker/README.md or install Docker");
}

/**
 * The repository as a fresh clone has it (tracked and new files, nothing ignored: no
 * node_modules, no .env, no logs but logs/.gitkeep), in a new folder. As root the copy is
 * root's, as on a server; then the auth side's log folder already exists, owned by another uid
 * with mode 700, and the transaction side's does not: the entrypoint must cope with both.
 */
export async function freshCopy(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "compose-e2e-"));
  chmodSync(dir, 0o755);
  const files = await must(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]);
  const list = join(dir, ".files");
  writeFileSync(list, files);
  await must(["bash", "-c", `tar -C '${repo}' --null -T '${list}' --ignore-failed-read -cf - | tar -C '${dir}' -xf - && rm '${list}'`]);
  if (process.getuid?.() === 0) {
    await must(["chown", "-R", "0:0", dir]);
    mkdirSync(join(dir, "logs/auth_service"), { mode: 0o700 });
    chownSync(join(dir, "logs/auth_service"), 4242, 4242);
  }
  return dir;
}

/** One line of `docker inspect -f` for a container. */
export const inspect = (container: string, format: string) => must(["docker", "inspect", "-f", format, container]);

export async function health(container: string): Promise<string> {
  return (await run(["docker", "inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}", container])).out.trim();
}

/** A statement run by psql inside a database container, as its owner over the local socket. */
export async function psql(container: string, user: string, database: string, statement: string): Promise<Ran> {
  return run(["docker", "exec", container, "psql", "-v", "ON_ERROR_STOP=1", "-U", user, "-d", database, "-Atc", statement]);
}

/** Everything the compose project labels: what `down -v` must leave none of. */
export async function leftovers(project: string): Promise<string[]> {
  const label = `label=com.docker.compose.project=${project}`;
  const kinds = [
    ["ps", "-a"],
    ["network", "ls"],
    ["volume", "ls"],
  ];
  const found = await Promise.all(kinds.map(async (kind) => (await must(["docker", ...kind, "-q", "--filter", label])).split("\n").filter(Boolean)));
  return found.flatMap((ids, i) => ids.map((id) => `${kinds[i]![0]} ${id}`));
}
