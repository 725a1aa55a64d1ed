-- Every change that can alter a token's validity is announced on the channel auth_changes, so
-- that each auth instance can answer /verify from memory and still refuse a revoked token at
-- once (auth/verify-cache.ts): 'user:<id>' when a user changes (a password change bumps the
-- token version; the memory holds the username and email too), 'session:<id>' when a session
-- ends or its expiry moves (logout, deletion, reuse of a refresh token, a password change, a
-- rotation). The notifications are sent by triggers, inside the transaction that makes the
-- change: PostgreSQL delivers them only if and when that transaction commits, to every session
-- listening, so no instance hears of a change that did not happen, and none misses one while its
-- LISTEN connection is up. Triggers catch every writer, an operator's psql included.
-- A session's last_used_at (touched on every refresh) changes nothing /verify decides, and a
-- session deleted by the purge had already ended or expired, so neither is announced.
CREATE FUNCTION notify_user_changed() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM pg_notify('auth_changes', 'user:' || OLD.id);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER users_notify_changed
AFTER UPDATE OR DELETE ON users
FOR EACH ROW EXECUTE FUNCTION notify_user_changed();
--> statement-breakpoint
CREATE FUNCTION notify_session_changed() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM pg_notify('auth_changes', 'session:' || OLD.id);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER sessions_notify_changed
AFTER UPDATE ON sessions
FOR EACH ROW
WHEN (OLD.ended_at IS DISTINCT FROM NEW.ended_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at OR OLD.user_id IS DISTINCT FROM NEW.user_id)
EXECUTE FUNCTION notify_session_changed();
--> statement-breakpoint
CREATE TRIGGER sessions_notify_deleted
AFTER DELETE ON sessions
FOR EACH ROW
WHEN (OLD.ended_at IS NULL)
EXECUTE FUNCTION notify_session_changed();
