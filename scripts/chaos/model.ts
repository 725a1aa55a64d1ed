/** What the chaos client knows, and believes, about the users and the money it moved. */

/** The first broken invariant stops the run; its name and details are printed with the seed. */
export class Violation extends Error {
  constructor(
    readonly invariant: string,
    readonly details: string,
  ) {
    super(`${invariant}: ${details}`);
  }
}

export interface Session {
  /** Its id, once GET /sessions has shown it as the current one. */
  id?: string;
  /** Every access token issued in this session (refreshes add one each). */
  accessTokens: string[];
  refreshToken?: string;
  /** A refresh whose answer was lost may have spent the refresh token: it is not used again. */
  uncertain: boolean;
}

export interface ChaosUser {
  name: string;
  email: string;
  /** The password, or several when a change's answer was lost. */
  passwords: string[];
  uid?: number;
  registered: "yes" | "unknown";
  sessions: Session[];
  /** Tokens the service must refuse from now on; probed now and then. */
  revokedTokens: string[];
  revokedRefreshTokens: string[];
  /** Ids of sessions that ended: GET /sessions must never list them again. */
  endedSessionIds: string[];
  /** The newest transfers this user sent with a key, for replays and key reuse. */
  keyed: TransferRequest[];
  /** The worker that acts as this user; only it sends this user's tokens, one request at a time. */
  owner: number;
}

export type TransferState = "acked" | "refused" | "unknown" | "committed";

/** One transfer the client asked for; `amountMinor` and the parties say what it would move. */
export interface TransferRequest {
  n: number;
  sender: string;
  receiver: string;
  amountMinor: number;
  key?: string;
  state: TransferState;
  /** How many times it was sent: only a retry (attempt 2 on) may be answered as a replay. */
  attempts: number;
  id?: number;
  code?: string;
  /** An earlier request's key with another amount: it must be refused and can never move money. */
  reuse?: boolean;
}

export class Model {
  readonly users = new Map<string, ChaosUser>();
  readonly transfers: TransferRequest[] = [];
  /** Acknowledged transfers by id: the same id twice would be money moved twice. */
  readonly acked = new Map<number, TransferRequest>();
  /** Transfers without a key whose answer was lost but which the ledger shows were made. */
  readonly committed = new Map<number, TransferRequest>();
  /** Keyed transfers whose answer was lost: each is retried with its key until it is known. */
  readonly unknownKeyed = new Set<TransferRequest>();
  /** Every password, token and refresh token the run has seen: none may appear in a log. */
  readonly secrets = new Set<string>();
  sessionsSupported = false;
  private counter = 0;

  constructor(readonly openingMinor: number) {}

  next(): number {
    return ++this.counter;
  }

  owned(worker: number): ChaosUser[] {
    return [...this.users.values()].filter((u) => u.owner === worker && u.registered === "yes");
  }

  registered(): ChaosUser[] {
    return [...this.users.values()].filter((u) => u.registered === "yes");
  }

  /** Records a 200 for a transfer; the same id acknowledged for two requests is a double move. */
  acknowledge(request: TransferRequest, id: number): void {
    const earlier = this.acked.get(id);
    if (earlier && earlier !== request) {
      throw new Violation(
        "every acknowledged transfer in the history exactly once",
        `transfer id ${id} acknowledged for request #${earlier.n} and #${request.n}`,
      );
    }
    request.state = "acked";
    request.id = id;
    this.acked.set(id, request);
  }
}

export const formatMinor = (minor: number) => `${minor < 0 ? "-" : ""}${Math.floor(Math.abs(minor) / 100)}.${String(Math.abs(minor) % 100).padStart(2, "0")}`;
