// How far a leaf's notBefore is set back from the moment it is signed, and the inverse: when a
// certificate was issued, read from its validity. Back-dating covers clocks a little behind the
// coordinator's; by a tenth at most of a short lifetime. One rule in one place, because the
// agent reads the issue time back to honour `muster certs renew` (a certificate issued before
// the operator's request is renewed).
const MAX_BACKDATE_MS = 60_000;

export function backdateMs(ttlMs: number): number {
  return Math.min(MAX_BACKDATE_MS, ttlMs / 10);
}

/**
 * When a leaf signed with `backdateMs` was issued, from its notBefore and notAfter (whole seconds
 * in the certificate, so within a second or two of the truth).
 */
export function issuedAtMs(notBefore: Date, notAfter: Date): number {
  const life = notAfter.getTime() - notBefore.getTime(); // ttl + backdate(ttl)
  // life = ttl * 1.1 while ttl / 10 < 60 s, i.e. while life < 660 s.
  const back = life < MAX_BACKDATE_MS * 11 ? life / 11 : MAX_BACKDATE_MS;
  return notBefore.getTime() + back;
}
