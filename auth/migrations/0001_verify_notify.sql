-- Every change to a user is announced on the channel auth_changes (payload 'user:<id>'), so
-- that each auth instance can answer /verify from memory and still refuse a revoked token
-- (auth/verify-cache.ts). The notification is sent by a trigger, inside the transaction that
-- makes the change: PostgreSQL delivers it only if and when that transaction commits, to every
-- session listening, so no instance hears of a change that did not happen, and none misses one
-- while its LISTEN connection is up. Any UPDATE or DELETE counts, whoever runs it (a password
-- change, or an operator by hand): the memory holds the username and email too.
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
