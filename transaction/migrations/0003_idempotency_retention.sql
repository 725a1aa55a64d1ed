-- Idempotency keys are kept for a retention (IDEMPOTENCY_KEY_RETENTION_HOURS, at least the 24
-- hours the IETF Idempotency-Key draft asks for), not forever, so the table stays bounded.
--
-- The index on created_at lets the transaction service's background purge take the oldest
-- expired keys a small batch at a time (transaction/key-purge.ts) without scanning the table.
--
-- transfer_money gains p_key_retention: a key older than that is treated as absent, whether or
-- not the purge has deleted it yet, so a retry after the retention is a new transfer, exactly.
-- The rest of the function is unchanged (see 0001_transfer_function.sql for why it is safe);
-- a function's arguments cannot be changed in place, so the old one is dropped in the same
-- transaction as this file: no caller ever finds no function.
CREATE INDEX "idempotency_keys_created_at_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
DROP FUNCTION transfer_money(bigint, text, bigint, text, bigint, bigint, text, text);--> statement-breakpoint
CREATE FUNCTION transfer_money(
  p_sender_uid bigint,
  p_sender_username text,
  p_receiver_uid bigint,
  p_receiver_username text,
  p_amount bigint,
  p_opening bigint,
  p_key text,
  p_request_hash text,
  p_key_retention interval
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
  IF p_key IS NOT NULL AND (length(p_key) NOT BETWEEN 1 AND 255 OR p_request_hash IS NULL OR p_key_retention IS NULL OR p_key_retention < interval '24 hours') THEN
    RAISE EXCEPTION 'an idempotency key needs 1 to 255 characters, a request hash and a retention of at least 24 hours'
      USING ERRCODE = 'check_violation';
  END IF;

  IF p_key IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_sender_uid::text || ':' || p_key, 0));
    SELECT * INTO v_stored FROM idempotency_keys k
    WHERE k.owner_uid = p_sender_uid AND k.key = p_key AND k.created_at > now() - p_key_retention;
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
    -- A conflict here can only be an expired key the purge has not reached yet (a live one was
    -- replayed above, under the advisory lock): it now names this transfer.
    INSERT INTO idempotency_keys (owner_uid, key, request_hash, transfer_id)
    VALUES (p_sender_uid, p_key, p_request_hash, v_transfer.id)
    ON CONFLICT (owner_uid, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, transfer_id = EXCLUDED.transfer_id, created_at = EXCLUDED.created_at;
  END IF;

  RETURN QUERY SELECT 'done'::text, v_transfer.id, v_transfer.sender_id, v_transfer.receiver_id,
    v_transfer.amount, v_transfer.created_at, v_sender.username::text, v_receiver.username::text;
END;
$$;
