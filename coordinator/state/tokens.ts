// Bootstrap tokens: create, list, revoke, and the checks a join runs. Only a hash of each
// secret is stored (coordinator/trust/tokens.ts).
import type { StateWriter, Table } from './writer.ts';
import { PREFIX } from './records.ts';
import { checkToken, checkTokenSecret, generateToken, hashSecret, type TokenRecord } from '../trust/tokens.ts';
import { InvalidArgumentError, NotFoundError } from '../../shared/errors/index.ts';
import { DEFAULT_TOKEN_TTL_MS } from '../../shared/constants.ts';
import { hostnameErrors } from '../../shared/plan/k8s-names.ts';

/** Longest token lifetime: past it a token is a standing credential, not a bootstrap one. */
export const MAX_TOKEN_TTL_MS = 365 * 24 * 3600_000;
export const MAX_TOKEN_USES = 1_000_000;
export const MAX_TOKEN_DESCRIPTION = 256;

export interface CreateTokenInput {
  ttlMs?: number;
  uses?: number;
  description?: string;
  /** Bind the token to one node name (uses: 1). */
  nodeName?: string;
  /** No expiry (expiresAtMs 0); ttlMs is ignored. */
  neverExpires?: boolean;
}

export class Tokens {
  readonly #w: StateWriter;
  readonly #t: Table<TokenRecord>;
  readonly #clock: () => number;

  constructor(w: StateWriter, clock: () => number) {
    this.#w = w;
    this.#t = w.table<TokenRecord>(PREFIX.tokens);
    this.#clock = clock;
  }

  /** The table, for the join mutation (nodes.ts) to count a use in the same transaction. */
  get table(): Table<TokenRecord> {
    return this.#t;
  }

  /** Checks an admin's request fully before anything is written. */
  static validate(o: CreateTokenInput): void {
    if (o.ttlMs !== undefined && (!Number.isFinite(o.ttlMs) || o.ttlMs < 0 || (o.ttlMs > 0 && o.ttlMs < 1000) || o.ttlMs > MAX_TOKEN_TTL_MS)) {
      throw new InvalidArgumentError(`token lifetime ${o.ttlMs} ms is out of range: give 1s to ${MAX_TOKEN_TTL_MS / 86_400_000}d (0 = the default, 24h)`);
    }
    if (o.uses !== undefined && (!Number.isInteger(o.uses) || o.uses < 0 || o.uses > MAX_TOKEN_USES)) {
      throw new InvalidArgumentError(`token uses ${o.uses} is out of range: give 0 (unlimited) to ${MAX_TOKEN_USES}`);
    }
    if ((o.description ?? '').length > MAX_TOKEN_DESCRIPTION) throw new InvalidArgumentError(`token description is longer than ${MAX_TOKEN_DESCRIPTION} characters`);
    if (o.nodeName && hostnameErrors(o.nodeName).length) throw new InvalidArgumentError(`--node ${JSON.stringify(o.nodeName)} is not a valid node name (DNS-1123 subdomain)`);
    if (o.nodeName && o.uses !== undefined && o.uses !== 0 && o.uses !== 1) throw new InvalidArgumentError('a token bound to a node (--node) is for one join: leave --uses out');
  }

  create(o: CreateTokenInput): Promise<{ token: string; record: TokenRecord }> {
    Tokens.validate(o);
    return this.#w.run(async () => {
      let t = generateToken();
      while (this.#t.latest(t.id)) t = generateToken();
      const now = this.#clock();
      const record: TokenRecord = {
        id: t.id,
        secretHash: hashSecret(t.secret),
        description: o.description ?? '',
        createdAtMs: now,
        expiresAtMs: o.neverExpires ? 0 : now + (o.ttlMs && o.ttlMs > 0 ? o.ttlMs : DEFAULT_TOKEN_TTL_MS),
        usesAllowed: o.nodeName ? 1 : (o.uses ?? 0),
        uses: 0,
        revoked: false,
        ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      };
      void this.#w.txn([this.#t.put(t.id, record)]);
      return { token: t.token, record };
    });
  }

  list(): TokenRecord[] {
    return this.#t.values().sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  get(id: string): TokenRecord | undefined {
    return this.#t.get(id);
  }

  revoke(id: string): Promise<void> {
    return this.#w.run(async () => {
      const t = this.#t.latest(id);
      if (!t) throw new NotFoundError(`token ${id} does not exist; see \`muster token list\``);
      void this.#w.txn([this.#t.put(id, { ...t, revoked: true })]);
    });
  }

  /** Cheap check of id and secret against committed state, before any CSR is parsed. */
  precheck(id: string, secret: string): void {
    checkTokenSecret(this.#t.get(id), id, secret);
  }

  /** Inside a join mutation: the token as it stands, checked for one more use. */
  checkForJoin(id: string, secret: string): TokenRecord {
    return checkToken(this.#t.latest(id), id, secret, this.#clock());
  }

  /** Inside a join mutation: id and secret only (a retried join of a used-up token). */
  checkSecret(id: string, secret: string): TokenRecord {
    return checkTokenSecret(this.#t.latest(id), id, secret);
  }
}
