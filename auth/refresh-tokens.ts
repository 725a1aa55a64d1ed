/**
 * Refresh tokens are opaque to clients: 64 base64url characters holding the session id (16
 * bytes) and 32 random bytes. The session id lets the service find the session of any token it
 * ever issued, so a spent token presented again is recognised as reuse for as long as the session
 * lives, without keeping a row per spent token. The database holds only a SHA-256 hash of the
 * current token and of the one spent last: the token has 256 random bits, so a fast hash is
 * enough, and a copy of the database gives no token.
 */
const SESSION_ID_BYTES = 16;
const SECRET_BYTES = 32;
const TOKEN = /^[A-Za-z0-9_-]{64}$/;

export function newRefreshToken(sessionId: string): string {
  const bytes = new Uint8Array(SESSION_ID_BYTES + SECRET_BYTES);
  bytes.set(Buffer.from(sessionId.replaceAll("-", ""), "hex"));
  crypto.getRandomValues(bytes.subarray(SESSION_ID_BYTES));
  return Buffer.from(bytes).toString("base64url");
}

/** The session a token names, or undefined for anything that is not one of our tokens. */
export function sessionIdOf(token: string): string | undefined {
  if (!TOKEN.test(token)) return undefined;
  const hex = Buffer.from(token, "base64url").subarray(0, SESSION_ID_BYTES).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const hashRefreshToken = (token: string): string => new Bun.CryptoHasher("sha256").update(token).digest("hex");

/**
 * The key that seals a rotation's successor: derived from the token that rotation spent, under
 * another label than the stored hash, so that only someone holding that spent token, never a
 * reader of the database, can open the box.
 */
function successorKey(spent: string): Promise<CryptoKey> {
  const material = new Uint8Array(new Bun.CryptoHasher("sha256").update(`refresh-successor-key:${spent}`).digest());
  return crypto.subtle.importKey("raw", material, "AES-GCM", false, ["encrypt", "decrypt"]);
}

/** The successor encrypted (AES-256-GCM) under a key that only the spent token yields. */
export async function sealSuccessor(spent: string, successor: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await successorKey(spent), new TextEncoder().encode(successor));
  return Buffer.concat([iv, new Uint8Array(sealed)]).toString("base64url");
}

export async function openSuccessor(spent: string, box: string): Promise<string> {
  const bytes = Buffer.from(box, "base64url");
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.subarray(0, 12) }, await successorKey(spent), bytes.subarray(12));
  return new TextDecoder().decode(plain);
}
