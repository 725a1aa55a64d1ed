import type { Sql } from "../db/connect";
import { errorCode, UNIQUE_VIOLATION } from "../db/errors";

export interface User {
  id: bigint;
  username: string;
  email: string;
  created_at: Date;
}
/** What /verify checks a token against: the public user and the version tokens must carry. */
export interface VerifiedUser extends User {
  token_version: number;
}
export interface UserWithSecrets extends VerifiedUser {
  password_hash: string;
}

export class DuplicateUser extends Error {
  constructor(readonly field: "username" | "email") {
    super(`${field} taken`);
  }
}

/** The unique indexes decide, so two concurrent registrations of one name cannot both win. */
export async function insertUser(sql: Sql, user: { username: string; email: string; passwordHash: string }): Promise<User> {
  try {
    const [row] = await sql<User[]>`
      INSERT INTO users (username, email, password_hash)
      VALUES (${user.username}, ${user.email}, ${user.passwordHash})
      RETURNING id, username, email, created_at`;
    return row!;
  } catch (error) {
    if (errorCode(error) === UNIQUE_VIOLATION) {
      const { constraint_name } = error as { constraint_name?: string };
      throw new DuplicateUser(constraint_name === "users_email_key" ? "email" : "username");
    }
    throw error;
  }
}

/** Which of the two is already registered, username first, or undefined when neither is. */
export async function takenField(sql: Sql, username: string, email: string): Promise<"username" | "email" | undefined> {
  const [row] = await sql<{ username_taken: boolean; email_taken: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower(${username})) AS username_taken,
           EXISTS (SELECT 1 FROM users WHERE email = ${email}) AS email_taken`;
  if (row!.username_taken) return "username";
  return row!.email_taken ? "email" : undefined;
}

/** Login accepts the username (any case) or the email; both are unique indexes. */
export async function findUserForLogin(sql: Sql, identifier: string): Promise<UserWithSecrets | undefined> {
  const [row] = await sql<UserWithSecrets[]>`
    SELECT id, username, email, created_at, password_hash, token_version FROM users
    WHERE lower(username) = lower(${identifier}) OR email = lower(${identifier})
    LIMIT 1`;
  return row;
}

export async function findUserById(sql: Sql, id: string | bigint): Promise<UserWithSecrets | undefined> {
  const [row] = await sql<UserWithSecrets[]>`
    SELECT id, username, email, created_at, password_hash, token_version FROM users WHERE id = ${id}`;
  return row;
}

export async function findVerifiedUser(sql: Sql, id: string | bigint): Promise<VerifiedUser | undefined> {
  const [row] = await sql<VerifiedUser[]>`
    SELECT id, username, email, created_at, token_version FROM users WHERE id = ${id}`;
  return row;
}

export async function findUserByUsername(sql: Sql, username: string): Promise<User | undefined> {
  const [row] = await sql<User[]>`
    SELECT id, username, email, created_at FROM users WHERE lower(username) = lower(${username})`;
  return row;
}

/**
 * Bumping the version revokes every earlier token. The version guard makes two concurrent
 * changes with the same old token impossible: the second finds no row.
 */
export async function changePasswordHash(
  sql: Sql,
  user: { id: bigint; tokenVersion: number; passwordHash: string },
): Promise<(User & { token_version: number }) | undefined> {
  const [row] = await sql<(User & { token_version: number })[]>`
    UPDATE users SET password_hash = ${user.passwordHash}, token_version = token_version + 1
    WHERE id = ${user.id} AND token_version = ${user.tokenVersion}
    RETURNING id, username, email, created_at, token_version`;
  return row;
}

/** The public shape of a user, as the original returned it. */
export function publicUser(user: User) {
  return { id: Number(user.id), username: user.username, email: user.email, created_at: user.created_at.toISOString() };
}
