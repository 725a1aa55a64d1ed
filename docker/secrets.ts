import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { EXAMPLE_SECRETS } from "../common/config";

/**
 * The `secrets` job of docker-compose.yml, run as root before anything else on every `up`.
 * It decides every secret of the installation and writes each into the volume of the
 * containers that need it, and no other (`/run/secrets/<volume>/<file>`, readable by root only):
 *
 * - a value set in `.env` is used as given;
 * - a value left empty, or still an example from `.env_example`, is generated once (32 random
 *   bytes as hex) and then kept in its volume across restarts and rebuilds.
 *
 * So `cp .env_example .env && docker compose up` never runs on a secret anyone else knows. It
 * prints the names of what it generated or took, never a value.
 */

const root = process.argv[2] ?? "/run/secrets";
const env = process.env;

function write(path: string, value: string): void {
  mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  // Written beside and renamed, so a reader never sees half a secret.
  writeFileSync(`${path}.new`, value, { mode: 0o400 });
  renameSync(`${path}.new`, path);
}

function decide(name: string, path: string): string {
  const given = env[name] ?? "";
  if (given !== "" && !EXAMPLE_SECRETS.has(given)) {
    write(path, given);
    console.log(`secrets: ${name} from .env`);
    return given;
  }
  if (EXAMPLE_SECRETS.has(given)) console.log(`secrets: ${name} in .env is the example from .env_example, so it is not used`);
  if (existsSync(path)) {
    console.log(`secrets: ${name} kept from an earlier start`);
    return readFileSync(path, "utf8");
  }
  const generated = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
  write(path, generated);
  console.log(`secrets: ${name} generated`);
  return generated;
}

const url = (user: string, password: string, host: string, database: string) =>
  `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:5432/${encodeURIComponent(database)}`;

decide("SECRET_KEY", `${root}/secret_key/secret_key`);
// The secret before a rotation (README, "Rotating the secret"): as given in .env, or none; never
// generated, and emptied again once .env no longer names it.
write(`${root}/secret_key/previous`, env.SECRET_KEY_PREVIOUS ?? "");
console.log(`secrets: SECRET_KEY_PREVIOUS ${env.SECRET_KEY_PREVIOUS ? "from .env" : "not set"}`);

// `host` is the database's service name in docker-compose.yml; the defaults are the file's too.
const databases = [
  { prefix: "AUTH", host: "auth_db", volume: "auth_db", defaults: { USER: "auth", NAME: "auth", SERVICE_USER: "auth_service" } },
  {
    prefix: "TRANS",
    host: "transaction_db",
    volume: "transaction_db",
    defaults: { USER: "transaction", NAME: "transaction", SERVICE_USER: "transaction_service" },
  },
];
for (const { prefix, host, volume, defaults } of databases) {
  const setting = (name: keyof typeof defaults) => env[`${prefix}_DB_${name}`] || defaults[name];
  const database = setting("NAME");
  // The owner's: its database container and its migrate job. The login role's: its migrate job
  // (which sets the password) and its service.
  const owner = decide(`${prefix}_DB_PASSWORD`, `${root}/${volume}_owner/password`);
  write(`${root}/${volume}_owner/database_url`, url(setting("USER"), owner, host, database));
  const login = decide(`${prefix}_DB_SERVICE_PASSWORD`, `${root}/${volume}_login/password`);
  write(`${root}/${volume}_login/database_url`, url(setting("SERVICE_USER"), login, host, database));
}
