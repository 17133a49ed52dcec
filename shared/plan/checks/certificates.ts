// Certificate lifetimes: Go durations (Kismatic's and Kubernetes' syntax), positive, and no leaf
// certificate outliving the CA that signs it.
import { defineCheck } from './check.ts';
import { parseGoDuration, describeMs } from '../duration.ts';
import { parseIp } from '../cidr.ts';
import { hostnameErrors } from '../k8s-names.ts';

const EXPIRY = 'cluster.certificates.expiry';
const CA_EXPIRY = 'cluster.certificates.ca_expiry';

export const durationCheck = defineCheck('duration', (ctx, r) => {
  const c = ctx.plan.cluster.certificates;
  for (const [path, value] of [[EXPIRY, c.expiry], [CA_EXPIRY, c.ca_expiry]] as const) {
    const ms = parseGoDuration(value);
    if (ms === null) r.error(path, `"${value}" is not a duration`, 'write hours and minutes like 17520h for 2 years, or 8760h30m');
    else if (ms <= 0) r.error(path, `"${value}" is not a positive duration`, 'write a lifetime such as 17520h for 2 years');
  }
});

export const certExpiryCheck = defineCheck('cert-expiry', (ctx, r) => {
  const c = ctx.plan.cluster.certificates;
  const leaf = parseGoDuration(c.expiry);
  const ca = parseGoDuration(c.ca_expiry);
  if (leaf === null || ca === null || leaf <= 0 || ca <= 0 || leaf <= ca) return;
  const { line } = ctx.source.has(CA_EXPIRY) ? ctx.source.locate(CA_EXPIRY) : { line: 0 };
  r.error(
    EXPIRY,
    `certificates would outlive their CA: expiry ${c.expiry} (${describeMs(leaf)}) is longer than ca_expiry ${c.ca_expiry} (${describeMs(ca)}${line ? `, line ${line}` : ''})`,
    `shorten expiry or lengthen ca_expiry to at least ${c.expiry}`,
  );
});

/** Extra API server SANs: IP addresses or DNS names (a leading "*." for a wildcard), as x509 SANs are. */
export const extraSansCheck = defineCheck('extra-sans', (ctx, r) => {
  ctx.plan.cluster.certificates.apiserver_cert_extra_sans.forEach((san, i) => {
    const name = san.toLowerCase().replace(/^\*\./, '');
    if ((parseIp(san) && !san.includes('%')) || (name && !hostnameErrors(name).length)) return;
    r.error(`cluster.certificates.apiserver_cert_extra_sans[${i}]`, `"${san}" is neither an IP address nor a DNS name`, 'write an address such as 10.0.0.10 or a name such as k8s.example.com');
  });
});
