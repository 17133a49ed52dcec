// Bootstrap tokens in kubeadm's format "<id>.<secret>" ([a-z0-9]{6}.[a-z0-9]{16}). Only a hash
// of the secret is stored; verification is constant-time. Pure functions: the state layer
// persists records and enforces uses atomically.
import { randomInt, createHash, timingSafeEqual } from 'node:crypto';
import { TOKEN_RE } from '../../shared/constants.ts';
import { TokenError } from '../../shared/errors/index.ts';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export interface TokenRecord {
  id: string;
  /** sha256 hex of the secret part. */
  secretHash: string;
  description: string;
  createdAtMs: number;
  expiresAtMs: number;
  /** 0: unlimited. */
  usesAllowed: number;
  uses: number;
  revoked: boolean;
  /** Set when the token may join only as this node name (and may take that name over). */
  nodeName?: string;
}

function randomString(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

export function generateToken(): { id: string; secret: string; token: string } {
  const id = randomString(6);
  const secret = randomString(16);
  return { id, secret, token: `${id}.${secret}` };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function parseToken(token: string): { id: string; secret: string } {
  const m = TOKEN_RE.exec(token.trim());
  if (!m) throw new TokenError('malformed', 'the bootstrap token is malformed: it must look like abcdef.0123456789abcdef ([a-z0-9]{6}.[a-z0-9]{16}); copy it again from `muster token create`');
  return { id: m[1]!, secret: m[2]! };
}

/** Throws the TokenError a joining agent should see, or returns when the token may be used once more. */
// A hash to compare against when the id is unknown, so both refusals cost the same.
const NO_SUCH_TOKEN = hashSecret('no such token');

/**
 * Checks id and secret only: an unknown id and a wrong secret get the same message and take
 * the same time, so the answer tells an attacker nothing about which ids exist.
 */
export function checkTokenSecret(rec: TokenRecord | undefined, id: string, secret: string): TokenRecord {
  const a = Buffer.from(rec?.secretHash ?? NO_SUCH_TOKEN, 'hex');
  const b = Buffer.from(hashSecret(secret), 'hex');
  if (!rec || a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new TokenError('unknown', `bootstrap token ${id} is not known to this coordinator; create one with \`muster token create\``);
  }
  return rec;
}

export function checkToken(rec: TokenRecord | undefined, id: string, secret: string, nowMs: number): TokenRecord {
  checkTokenSecret(rec, id, secret);
  rec = rec!;
  if (rec.revoked) throw new TokenError('revoked', `bootstrap token ${id} was revoked; create a new one with \`muster token create\``);
  // 0: a token created with --ttl 0, which never expires.
  if (rec.expiresAtMs && nowMs >= rec.expiresAtMs) {
    throw new TokenError('expired', `bootstrap token ${id} expired at ${new Date(rec.expiresAtMs).toISOString()}; create a new one with \`muster token create --ttl 24h\``);
  }
  if (rec.usesAllowed > 0 && rec.uses >= rec.usesAllowed) {
    throw new TokenError('used-up', `bootstrap token ${id} is used up (${rec.uses} of ${rec.usesAllowed} joins); create a new one with \`muster token create --uses N\``);
  }
  return rec;
}

/** Parses "24h", "90m", "30s", "7d", "1h30m" into milliseconds. */
export function parseDurationMs(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
    total += Number(m[1]) * unit;
    matched = re.lastIndex;
  }
  if (!text || matched !== text.length) throw new RangeError(`"${text}" is not a duration (examples: 30m, 24h, 7d, 1h30m)`);
  return total;
}
