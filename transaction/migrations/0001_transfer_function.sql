-- A whole transfer as one function, so that it costs one round trip and runs as one
-- transaction: idempotency, opening accounts on first use, locking, the balance check and the
-- writes. Every check comes before the first write (TigerBeetle's rule), so a refusal leaves
-- nothing behind except accounts opened on first use, which is intended.
--
-- The receiver may be given by name only (p_receiver_uid NULL): if this service holds an
-- account of that name (any case), it is the receiver; if not, the answer is
-- 'receiver_unknown' and the caller asks the auth service, then calls again with the uid. So
-- a transfer to a known receiver is one round trip in all.
--
-- Why it is safe in READ COMMITTED under any concurrency (each statement in a VOLATILE
-- PL/pgSQL function takes a fresh snapshot, so it sees whatever committed before it began):
--
-- * Duplicates. The transaction-scoped advisory lock on (sender, key) makes concurrent requests
--   with the same key run one after the other; the second looks the key up only after the
--   first has committed or rolled back, so it replays the first transfer instead of making a
--   second one. Two different keys that hash alike merely wait for each other.
-- * Opening. Both accounts are inserted by one statement, in uid order, with ON CONFLICT DO
--   NOTHING: a concurrent opener of the same account waits for the first to commit and then
--   inserts nothing, and the uid order means two openers never wait for each other in a cycle.
--   No conflict target is named, so the lower(username) index is an arbiter too: otherwise two
--   openers racing past the uid check would fail on the username index with 23505 instead of
--   quietly agreeing. NOT EXISTS keeps the sequence from being burned on every transfer.
-- * Locking. Both account rows are locked FOR UPDATE in id order. Every transfer locks in the
--   same order, so transfers in opposite directions queue instead of deadlocking (40P01). Once
--   the locks are held nobody else can change either balance, so the check that follows stays
--   true until commit: no overdraft and no lost update.
-- * Waiting holds nothing. A transaction waits on the advisory lock before it holds anything,
--   on an uncommitted opening only for uids above those it has inserted, and on row locks only
--   in id order; the writes after the locks wait for nobody. So no cycle of waits can form.
CREATE FUNCTION transfer_money(
  p_sender_uid bigint,
  p_sender_username text,
  p_receiver_uid bigint,
  p_receiver_username text,
  p_amount bigint,
  p_opening bigint,
  p_key text,
  p_request_hash text
) RETURNS TABLE (
  outcome text,
  id bigint,
  sender_id bigint,
  receiver_id bigint,
  amount bigint,
  created_at timestamptz,
  sender_username text,
  receiver_username text
)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
  v_stored idempotency_keys;
  v_sender accounts;
  v_receiver accounts;
  v_receiver_uid bigint := p_receiver_uid;
  v_receiver_username text := p_receiver_username;
  v_transfer transfers;
BEGIN
  -- A caller's mistakes are refused here rather than by a constraint halfway through.
  IF p_amount IS NULL OR p_amount <= 0 THEN
    RAISE EXCEPTION 'transfer amount must be positive, got %', p_amount USING ERRCODE = 'check_violation';
  END IF;
  IF p_sender_uid = p_receiver_uid OR lower(p_sender_username) = lower(p_receiver_username) THEN
    RAISE EXCEPTION 'a transfer needs two different accounts' USING ERRCODE = 'check_violation';
  END IF;
  IF p_key IS NOT NULL AND (length(p_key) NOT BETWEEN 1 AND 255 OR p_request_hash IS NULL) THEN
    RAISE EXCEPTION 'an idempotency key needs 1 to 255 characters and a request hash' USING ERRCODE = 'check_violation';
  END IF;

  IF p_key IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_sender_uid::text || ':' || p_key, 0));
    SELECT * INTO v_stored FROM idempotency_keys k WHERE k.owner_uid = p_sender_uid AND k.key = p_key;
    IF FOUND AND v_stored.request_hash <> p_request_hash THEN
      RETURN QUERY SELECT 'idempotency_key_reused'::text, NULL::bigint, NULL::bigint, NULL::bigint,
        NULL::bigint, NULL::timestamptz, NULL::text, NULL::text;
      RETURN;
    END IF;
    IF FOUND THEN
      RETURN QUERY
        SELECT 'replayed'::text, t.id, t.sender_id, t.receiver_id, t.amount, t.created_at,
          s.username::text, r.username::text
        FROM transfers t
        JOIN accounts s ON s.id = t.sender_id
        JOIN accounts r ON r.id = t.receiver_id
        WHERE t.id = v_stored.transfer_id;
      RETURN;
    END IF;
  END IF;

  IF v_receiver_uid IS NULL THEN
    SELECT a.uid, a.username INTO v_receiver_uid, v_receiver_username
    FROM accounts a WHERE lower(a.username) = lower(p_receiver_username);
    IF NOT FOUND THEN
      RETURN QUERY SELECT 'receiver_unknown'::text, NULL::bigint, NULL::bigint, NULL::bigint,
        NULL::bigint, NULL::timestamptz, NULL::text, NULL::text;
      RETURN;
    END IF;
  END IF;

  INSERT INTO accounts (uid, username, balance, opening_balance)
  SELECT n.uid, n.username, p_opening, p_opening
  FROM (VALUES (p_sender_uid, p_sender_username), (v_receiver_uid, v_receiver_username)) AS n (uid, username)
  WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.uid = n.uid)
  ORDER BY n.uid
  ON CONFLICT DO NOTHING;

  PERFORM 1 FROM accounts a WHERE a.uid IN (p_sender_uid, v_receiver_uid) ORDER BY a.id FOR UPDATE;
  SELECT * INTO v_sender FROM accounts a WHERE a.uid = p_sender_uid;
  SELECT * INTO v_receiver FROM accounts a WHERE a.uid = v_receiver_uid;
  -- Only a username already held by another uid (the auth service's users were reset) gets here.
  IF v_sender.id IS NULL OR v_receiver.id IS NULL THEN
    RAISE EXCEPTION 'cannot open an account for uid % or %: its username belongs to another account',
      p_sender_uid, v_receiver_uid USING ERRCODE = 'unique_violation';
  END IF;

  IF v_sender.balance < p_amount THEN
    RETURN QUERY SELECT 'insufficient_funds'::text, NULL::bigint, NULL::bigint, NULL::bigint,
      NULL::bigint, NULL::timestamptz, NULL::text, NULL::text;
    RETURN;
  END IF;

  -- From here on the transfer must succeed. The receiver's balance cannot overflow: money is
  -- conserved, so no balance exceeds the sum of all openings.
  UPDATE accounts a SET balance = a.balance - p_amount WHERE a.id = v_sender.id;
  UPDATE accounts a SET balance = a.balance + p_amount WHERE a.id = v_receiver.id;
  INSERT INTO transfers (sender_id, receiver_id, amount)
  VALUES (v_sender.id, v_receiver.id, p_amount)
  RETURNING * INTO v_transfer;
  IF p_key IS NOT NULL THEN
    INSERT INTO idempotency_keys (owner_uid, key, request_hash, transfer_id)
    VALUES (p_sender_uid, p_key, p_request_hash, v_transfer.id);
  END IF;

  RETURN QUERY SELECT 'done'::text, v_transfer.id, v_transfer.sender_id, v_transfer.receiver_id,
    v_transfer.amount, v_transfer.created_at, v_sender.username::text, v_receiver.username::text;
END;
$$;
