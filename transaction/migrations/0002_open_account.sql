-- The caller's account for GET /account, opened on first use, in one round trip.
--
-- It is PL/pgSQL rather than one SQL statement because of READ COMMITTED: when a concurrent
-- opener of the same account wins, ON CONFLICT DO NOTHING waits for it to commit, but a single
-- statement's snapshot still cannot see its row. The SELECT after the INSERT takes a fresh
-- snapshot and finds the row, whoever inserted it. As in transfer_money, no conflict target is
-- named so that a race on the lower(username) index is also resolved quietly, and NOT EXISTS
-- keeps the sequence from being burned on every call.
CREATE FUNCTION open_account(p_uid bigint, p_username text, p_opening bigint)
RETURNS accounts
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  v_account accounts;
BEGIN
  INSERT INTO accounts (uid, username, balance, opening_balance)
  SELECT p_uid, p_username, p_opening, p_opening
  WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.uid = p_uid)
  ON CONFLICT DO NOTHING;

  SELECT * INTO v_account FROM accounts a WHERE a.uid = p_uid;
  -- Only a username already held by another uid (the auth service's users were reset) gets here.
  IF NOT FOUND THEN
    RAISE EXCEPTION 'cannot open an account for uid %: its username belongs to another account', p_uid
      USING ERRCODE = 'unique_violation';
  END IF;
  RETURN v_account;
END;
$$;
