// Cluster certificate issuance throughput, side by side on this machine:
//   - the coordinator's path (ClusterIssuer.issueForNode: CSR parse + signature check +
//     authorisation + sign + durable record in SqliteStore), one kubelet-serving CSR per call,
//     sequential (one fsync per call) and with 64 calls in flight (group commit), and the CPU part
//     alone (no record) for a per-core comparison;
//   - `openssl speed ecdsap256`: ECDSA P-256 sign and verify per second, one core; an issuance
//     needs one of each, so 1 / (1/sign + 1/verify) is the practical per-core limit;
//   - cfssl (Debian's golang-cfssl), `cfssl serve` on loopback signing the same CSRs over its HTTP
//     API with 8 in flight, when installed ("cfssl: not available" otherwise).
//
//   node bench/issuance.ts [certificates]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterState } from '../coordinator/state/cluster-state.ts';
import { SqliteStore } from '../coordinator/store/sqlite.ts';
import { ClusterCas } from '../coordinator/pki/cluster-cas.ts';
import { ClusterIssuer } from '../coordinator/pki/issuer.ts';
import { authorizeCsr } from '../coordinator/pki/authorizer.ts';
import { createCsr, signCsrRequest } from '../shared/pki/x509.ts';
import { silentLogger } from '../shared/log/logger.ts';
import { CLUSTER_PKI } from '../shared/constants.ts';

const N = Number(process.argv[2] ?? 2000);
const dir = mkdtempSync(join(tmpdir(), 'muster-bench-issuance-'));
const ADDRESS = '127.0.0.3';
const PLAN = `cluster:
  name: bench
  version: v1.36.3
etcd:
  expected_count: 1
  nodes: [{ host: node-1, ip: 127.0.0.2 }]
master:
  expected_count: 1
  nodes: [{ host: node-1, ip: 127.0.0.2 }]
worker:
  expected_count: 1
  nodes: [{ host: node-2, ip: ${ADDRESS} }]
`;

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
const fmt = (n: number) => n.toLocaleString('en-US');

async function coordinatorPath(): Promise<{ sequential: number; concurrent: number; cpuOnly: number; csrs: string[]; caCert: string; caKey: string }> {
  const log = silentLogger();
  const cas = new ClusterCas({ dataDir: dir, log });
  const store = new SqliteStore(join(dir, 'state.db'));
  const state = await ClusterState.open({ store, logger: log, clusterCas: cas, recomputeDelayMs: 0 });
  await state.applyPlan(PLAN, 'bench.yaml');
  const { token, record } = await state.tokens.create({});
  await state.nodes.join({ tokenId: record.id, tokenSecret: token.split('.')[1]!, name: 'node-2', machineId: 'm2', address: ADDRESS, labels: {}, agentVersion: 'bench', keyId: 'k', sign: () => ({ certPem: '', serial: 'b1' }) });
  await state.idle();
  if (!state.assignments.get('node-2')?.body.roles.includes('worker')) throw new Error('node-2 has no worker assignment');
  const issuer = new ClusterIssuer({ cas, state, log });
  // Keys are made on nodes, not by the coordinator: CSRs are prepared before timing.
  const csrs = await Promise.all(Array.from({ length: N }, async () => (await createCsr('node-2', undefined, { dnsNames: ['node-2'], ips: [ADDRESS] })).csrPem));
  const caller = { name: 'node-2', serial: 'b1' };
  const call = (pem: string) => issuer.issueForNode(caller, [{ kind: 'kubelet-serving', csr_pem: pem }]);
  for (const pem of csrs.slice(0, 50)) await call(pem); // warm-up

  const seqN = Math.min(N, 500);
  let t = performance.now();
  for (const pem of csrs.slice(0, seqN)) await call(pem);
  const sequential = rate(seqN, performance.now() - t);

  t = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < csrs.length) await call(csrs[next++]!);
    }),
  );
  const concurrent = rate(csrs.length, performance.now() - t);

  const plan = state.plans.current()!.plan;
  const ca = cas.current()!.cas.kubernetes;
  const node = { name: 'node-2', roles: ['worker'], addresses: [ADDRESS] };
  t = performance.now();
  for (const pem of csrs) {
    const s = authorizeCsr(node, plan, { kind: 'kubelet-serving', csrPem: pem });
    signCsrRequest(ca, s.csr, { cn: s.cn, orgs: s.orgs, dnsNames: s.dnsNames, ips: s.ips, usages: s.usages, days: 0, ttlMs: s.ttlMs });
  }
  const cpuOnly = rate(csrs.length, performance.now() - t);
  const recorded = state.issuance.all().length;
  if (recorded !== 50 + seqN + N) throw new Error(`expected ${50 + seqN + N} records, found ${recorded}`);
  await state.close();
  await store.close();
  return { sequential, concurrent, cpuOnly, csrs, caCert: join(dir, CLUSTER_PKI.kubernetes.cert), caKey: join(dir, CLUSTER_PKI.kubernetes.key) };
}

function opensslSpeed(): { sign: number; verify: number } {
  const out = execFileSync('openssl', ['speed', '-seconds', '3', 'ecdsap256'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const m = /nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`cannot read openssl speed output:\n${out}`);
  return { sign: Number(m[1]), verify: Number(m[2]) };
}

async function cfsslRate(csrs: string[], caCert: string, caKey: string): Promise<number | null> {
  try {
    execFileSync('sh', ['-c', 'command -v cfssl'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  // cfssl 1.2 reads SEC1 ("EC PRIVATE KEY") keys; ours are PKCS#8.
  const sec1 = join(dir, 'ca-sec1.key');
  writeFileSync(sec1, execFileSync('openssl', ['ec', '-in', caKey], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const proc = spawn('cfssl', ['serve', '-address', '127.0.0.1', '-port', String(port), '-ca', caCert, '-ca-key', sec1], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/api/v1/cfssl/sign`;
  const sign = async (pem: string) => {
    const r = await fetch(url, { method: 'POST', body: JSON.stringify({ certificate_request: pem }) });
    const body = (await r.json()) as { success: boolean; errors?: unknown };
    if (!body.success) throw new Error(`cfssl refused: ${JSON.stringify(body.errors)}`);
  };
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await sign(csrs[0]!);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const n = Math.min(csrs.length, 1000);
    const t = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < n) await sign(csrs[next++]!);
      }),
    );
    return rate(n, performance.now() - t);
  } finally {
    proc.kill();
  }
}

const c = await coordinatorPath();
const o = opensslSpeed();
const combined = Math.round(1 / (1 / o.sign + 1 / o.verify));
const cf = await cfsslRate(c.csrs, c.caCert, c.caKey);
console.log(`certificates issued per second (${N} kubelet-serving CSRs, ECDSA P-256, this machine)`);
console.log(`  muster, coordinator path, 64 in flight (parse+verify+authorise+sign+record, sqlite group commit): ${fmt(c.concurrent)}/s`);
console.log(`  muster, coordinator path, sequential (one fsync per call):                                     ${fmt(c.sequential)}/s`);
console.log(`  muster, CPU part only (parse+verify+authorise+sign, no record), one core:                       ${fmt(c.cpuOnly)}/s`);
console.log(`  openssl speed ecdsap256, one core: sign ${fmt(Math.round(o.sign))}/s, verify ${fmt(Math.round(o.verify))}/s, sign+verify ${fmt(combined)}/s`);
console.log(cf === null ? '  cfssl: not available' : `  cfssl serve (golang-cfssl 1.2, HTTP API on loopback, 8 in flight):                                ${fmt(cf)}/s`);
console.log(`  muster 64-in-flight / openssl sign+verify: ${(c.concurrent / combined).toFixed(2)}${cf ? `; muster / cfssl: ${(c.concurrent / cf).toFixed(1)}x` : ''}`);
