import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { refuse } from "../common/errors";
import { bearerSecurity, jsonBody, jsonResponse } from "../common/openapi";
import type { Refusal } from "../common/refusals";
import type { AppEnv } from "../common/request-context";
import { declareRoute } from "../common/route";
import { LookupName } from "../common/schemas";
import type { TransactionDeps } from "./deps";
import { REFUSALS } from "./refusals";
import { Amount, TransactionOut, transactionOut } from "./schemas";
import { transferMoney } from "./transfers";

const TransferIn = z
  .object({
    receiver_username: LookupName.openapi({ example: "bob", description: "Found without regard to case." }),
    amount: Amount,
  })
  .openapi("TransferIn");

const headers = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({
      param: { name: "idempotency-key", in: "header" },
      // No `example`: Swagger UI's "Try it out" would send it, and a second transfer tried from the
      // page would then be refused as a reuse of the key.
      description:
        "Optional, 1 to 255 characters (such as `order-1234-payment`), scoped to the sender. The same key with " +
        "the same body returns the first transfer again (header `Idempotent-Replayed: true`) and moves no money; " +
        "with another body it is refused (`422 idempotency_key_reused`).",
    }),
});

const route = (deps: TransactionDeps) =>
  declareRoute({
    method: "post",
    path: "/transfer",
    operationId: "transfer",
    tags: ["transactions"],
    summary: "Send money to another registered user",
    description: "All or nothing: either the whole amount moves and a transfer is recorded, or nothing changes.",
    security: bearerSecurity,
    middleware: deps.authenticate,
    request: { body: jsonBody(TransferIn, "Who receives how much."), headers },
    responses: {
      200: {
        ...jsonResponse(TransactionOut, "The transfer was made (or, with `Idempotent-Replayed: true`, had been made)."),
        headers: { "Idempotent-Replayed": { description: "`true` on a replay of an earlier request.", schema: { type: "string" } } },
      },
    },
    refusals: [
      REFUSALS.insufficient_funds,
      REFUSALS.self_transfer,
      REFUSALS.receiver_not_found,
      REFUSALS.idempotency_key_in_use,
      REFUSALS.idempotency_key_reused,
    ],
  });

function requestHash(receiver: string, amountMinor: bigint): string {
  return new Bun.CryptoHasher("sha256").update(`${receiver.toLowerCase()}\n${amountMinor}`).digest("hex");
}

export function transferRoutes(app: OpenAPIHono<AppEnv>, deps: TransactionDeps) {
  const { sql, config, log, auth, metrics } = deps;
  app.openapi(route(deps), async (c) => {
    const sender = c.get("user");
    const requestId = c.get("requestId");
    const { receiver_username, amount: amountMinor } = c.req.valid("json");
    const key = c.req.valid("header")["idempotency-key"];
    const refused = (refusal: Refusal): never => {
      log.info("transfer_refused", { request_id: requestId, user_id: String(sender.id), reason: refusal.code });
      metrics.transferRefused(refusal.code);
      throw refuse(refusal);
    };

    if (receiver_username.toLowerCase() === sender.username.toLowerCase()) {
      refused(REFUSALS.self_transfer);
    }
    const transfer = (receiver: { uid: bigint | null; username: string }) =>
      transferMoney(sql, {
        senderUid: BigInt(sender.id),
        senderUsername: sender.username,
        receiverUid: receiver.uid,
        receiverUsername: receiver.username,
        amountMinor,
        openingMinor: config.DEFAULT_BALANCE,
        key: key ?? null,
        // Only a key needs the hash; most transfers come without one.
        requestHash: key === undefined ? null : requestHash(receiver_username, amountMinor),
        keyRetentionHours: config.IDEMPOTENCY_KEY_RETENTION_HOURS,
      });
    // The receiver is first looked for among this service's accounts, inside the same call;
    // the auth service is asked only about a receiver this service has never seen.
    let result = await transfer({ uid: null, username: receiver_username });
    if (result.outcome === "receiver_unknown") {
      const user = await auth.checkUser(sender.token, requestId, receiver_username);
      if (!user) return refused(REFUSALS.receiver_not_found);
      result = await transfer({ uid: BigInt(user.id), username: user.username });
    }
    switch (result.outcome) {
      case "receiver_unknown":
        throw new Error("transfer_money did not know a receiver the auth service had just confirmed");
      case "insufficient_funds":
        return refused(REFUSALS.insufficient_funds);
      case "idempotency_key_reused":
        return refused(REFUSALS.idempotency_key_reused);
      case "replayed":
        metrics.transferReplayed();
        c.header("Idempotent-Replayed", "true");
        return c.json(transactionOut(result.transfer), 200);
      case "done":
        log.info("transfer_done", {
          request_id: requestId,
          user_id: String(sender.id),
          transfer_id: String(result.transfer.id),
          amount_minor: String(amountMinor),
          receiver_id: String(result.transfer.receiver_id),
        });
        metrics.transferDone(amountMinor);
        return c.json(transactionOut(result.transfer), 200);
    }
  });
}
