// Cluster certificate issuance throughput, side by side on this machine:
//   - the coordinator's path (ClusterIssuer: CSR parse + signature check + authorisation + sign +
//     durable record in SqliteStore), admitted as the server admits it: 64 callers, the signing
//     in the coordinator's work budget with its defaults (8 at once), each call's record outside
//     it, where commits are shared (WorkBudget.runThen). One kubelet-serving CSR per call, that
//     way (group commit) and sequentially (one fsync per call); what agents
//     send when they join or renew a round: a worker's call (its 3 kinds) and an etcd + master
//     node's call (its 14), the same way; and the CPU part alone (no record);
//   - `openssl speed ecdsap256`: ECDSA P-256 sign and verify per second, one core; an issuance
//     needs one of each, so 1 / (1/sign + 1/verify) is the practical per-core limit;
//   - node:crypto's own one-shot sign + verify with nothing else: the ceiling of a Node program;
//   - cfssl (Debian's golang-cfssl), when installed: as the HA handbook seed runs it, its CLI with
//     a process per certificate (`cfssl sign`), and at its fastest, `cfssl serve` on loopback
//     signing the same CSRs over its HTTP API with 8 in flight.
//
// The machine is shared and its speed drifts by 20-30% within a minute, so the bench runs ROUNDS
// rounds, and within a round every muster line is bracketed by the references: openssl speed and
// the node:crypto floor run just before it and just after it, and the line's ratio is to the mean
// of the two (a line takes about a second, so the reference it is held to was taken within a
// second or two of it, not at the other end of the round). The medians of the ratios over the
// rounds, and their range, are printed.
//
// Wall-clock rates depend on how many cores a side can use, so each rate is also given per core
// of CPU time it used: muster's from process.cpuUsage() (every thread of this process: GC
// helpers, the WAL-sync thread, SQLite), the cfssl CLI's from this process's children's CPU, cfssl
// serve's from utime+stime of its process in /proc/PID/stat (not the CPU of this process's HTTP
// client, which is ours). Neither side's figure includes what a real caller adds: gRPC + mutual
// TLS for muster, TLS for cfssl serve (the bench runs its HTTP API in plain text).
//
// Targets (the issue): muster per core >= half of openssl's sign+verify rate per core, and muster
// >= 10x cfssl, for the calls agents send (a node's whole assignment, or its round of renewals, in
// one call): a worker's and an etcd + master node's. cfssl is held to as the HA handbook seed
// runs it (its CLI); cfssl serve is printed beside it: 10x its rate is above openssl's own here,
// so no signer could reach it, and the bench says so.
//
//   node bench/issuance.ts [certificates per line] [rounds]      (CFSSL=PATH: another cfssl build)
import { execFileSync, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { join } from 'node:path';
import { ClusterState } from '../coordinator/state/cluster-state.ts';
import { SqliteStore } from '../coordinator/store/sqlite.ts';
import { ClusterCas } from '../coordinator/pki/cluster-cas.ts';
import { ClusterIssuer, type CertificateRequestIn } from '../coordinator/pki/issuer.ts';
import { WorkBudget } from '../coordinator/server/admission/work-budget.ts';
import { authorizeCsr } from '../coordinator/pki/authorizer.ts';
import { createCsr, signCsrRequest } from '../shared/pki/x509.ts';
import { silentLogger } from '../shared/log/logger.ts';
import { CLUSTER_PKI } from '../shared/constants.ts';
import { kindsForRoles } from '../shared/pki/catalogue.ts';

const N = Number(process.argv[2] ?? 2000);
/** One-CSR calls made one at a time per round (each waits for its own fsync). */
const SEQUENTIAL = Math.min(N, 300);
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
/** Certificates per second of CPU time (all threads): a rate per core. */
const perCore = (n: number, cpuMicros: number) => Math.round((n / cpuMicros) * 1e6);
const cpuMicros = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return u.user + u.system;
};

interface Measured {
  /** Certificates per second, wall clock. */
  wall: number;
  /** Certificates per second of CPU time used. */
  perCore: number;
  /** CPU time used / wall time: how many cores were busy on average. */
  cores: number;
}

function measured(n: number, ms: number, cpu: number): Measured {
  return { wall: rate(n, ms), perCore: perCore(n, cpu), cores: cpu / 1000 / ms };
}
const fmt = (n: number) => n.toLocaleString('en-US');

/** Runs `call` on every item from 64 callers at once; the rate counts `certs(item)` certificates per item. */
async function inFlight<T>(items: readonly T[], call: (item: T) => Promise<unknown>, certs: (item: T) => number): Promise<Measured> {
  const n = items.reduce((sum, item) => sum + certs(item), 0);
  const t = performance.now();
  const cpu = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < items.length) await call(items[next++]!);
    }),
  );
  return measured(n, performance.now() - t, cpuMicros(cpu));
}

interface Setup {
  issuer: ClusterIssuer;
  state: ClusterState;
  store: SqliteStore;
  csrs: string[];
  workerSets: CertificateRequestIn[][];
  masterSets: CertificateRequestIn[][];
  masterKinds: number;
  /** The CPU part alone, without the issuer's record: one kubelet-serving CSR. */
  cpuOne: (pem: string) => void;
  caCert: string;
  caKey: string;
}

async function setup(): Promise<Setup> {
  const log = silentLogger();
  const cas = new ClusterCas({ dataDir: dir, log });
  const store = new SqliteStore(join(dir, 'state.db'));
  const state = await ClusterState.open({ store, logger: log, clusterCas: cas, recomputeDelayMs: 0 });
  await state.applyPlan(PLAN, 'bench.yaml');
  const { token, record } = await state.tokens.create({});
  await state.nodes.join({ tokenId: record.id, tokenSecret: token.split('.')[1]!, name: 'node-2', machineId: 'm2', address: ADDRESS, labels: {}, agentVersion: 'bench', keyId: 'k', sign: () => ({ certPem: '', serial: 'b1' }) });
  const second = await state.tokens.create({});
  await state.nodes.join({ tokenId: second.record.id, tokenSecret: second.token.split('.')[1]!, name: 'node-1', machineId: 'm1', address: '127.0.0.2', labels: {}, agentVersion: 'bench', keyId: 'k1', sign: () => ({ certPem: '', serial: 'b0' }) });
  await state.idle();
  if (!state.assignments.get('node-2')?.body.roles.includes('worker')) throw new Error('node-2 has no worker assignment');
  const masterRoles = state.assignments.get('node-1')?.body.roles ?? [];
  if (!masterRoles.includes('master') || !masterRoles.includes('etcd')) throw new Error(`node-1 is not etcd + master (${masterRoles.join(', ')})`);
  const issuer = new ClusterIssuer({ cas, state, log });
  // Keys are made on nodes, not by the coordinator: CSRs are prepared before timing.
  const csrs = await Promise.all(Array.from({ length: N }, async () => (await createCsr('node-2', undefined, { dnsNames: ['node-2'], ips: [ADDRESS] })).csrPem));
  // What a worker asks for when it joins: its three kinds in one call, each its own key.
  const workerKinds = kindsForRoles(['worker']);
  const workerSets = await Promise.all(
    Array.from({ length: Math.ceil(N / workerKinds.length) }, () => Promise.all(workerKinds.map(async (k) => ({ kind: k.kind, csr_pem: (await createCsr(k.cn('node-2'))).csrPem })))),
  );
  // What an etcd + master node asks for: every kind of both roles in one call (and the SA key back).
  const masterKinds = kindsForRoles(masterRoles);
  const masterSets = await Promise.all(
    Array.from({ length: Math.ceil(N / masterKinds.length) }, () =>
      Promise.all(masterKinds.map(async (k) => ({ kind: k.kind, csr_pem: (await createCsr(k.cn('node-1'), undefined, k.sans === 'none' ? {} : { dnsNames: ['node-1'], ips: ['127.0.0.2'] })).csrPem }))),
    ),
  );
  const plan = state.plans.current()!.plan;
  const ca = cas.current()!.cas.kubernetes;
  const node = { name: 'node-2', roles: ['worker'], addresses: [ADDRESS] };
  const cpuOne = (pem: string) => {
    const s = authorizeCsr(node, plan, { kind: 'kubelet-serving', csrPem: pem });
    signCsrRequest(ca, s.csr, { cn: s.cn, orgs: s.orgs, dnsNames: s.dnsNames, ips: s.ips, usages: s.usages, days: 0, ttlMs: s.ttlMs });
  };
  return { issuer, state, store, csrs, workerSets, masterSets, masterKinds: masterKinds.length, cpuOne, caCert: join(dir, CLUSTER_PKI.kubernetes.cert), caKey: join(dir, CLUSTER_PKI.kubernetes.key) };
}

const WORKER = { name: 'node-2', serial: 'b1' };
const MASTER = { name: 'node-1', serial: 'b0' };
/** The server's admission of IssueCertificates (coordinator/server/agent-service.ts): signing in the work budget, the record's commit outside it. */
const budget = new WorkBudget();
const admitted = (s: Setup, caller: typeof WORKER, set: CertificateRequestIn[]) =>
  budget.runThen('issue certificates', () => s.issuer.prepareForNode(caller, set), (p) => p.commit());

type LineKey = 'sequential' | 'concurrent' | 'workerCalls' | 'masterCalls' | 'cpuOnly';

/** What muster's rates are held to, measured on this machine at one moment. */
interface Reference {
  openssl: { sign: number; verify: number; combined: number };
  /** node:crypto's own one-shot sign + verify per core (nodeCryptoFloor). */
  floor: number;
}

type Round = Record<LineKey, Measured> & {
  /** The references just before and just after each line, averaged. */
  around: Record<LineKey, Reference>;
  /** Every reference the round took, in order. */
  references: Reference[];
};

function reference(): Reference {
  const o = opensslSpeed();
  return { openssl: { ...o, combined: 1 / (1 / o.sign + 1 / o.verify) }, floor: nodeCryptoFloor() };
}

const mean2 = (a: Reference, b: Reference): Reference => ({
  openssl: { sign: (a.openssl.sign + b.openssl.sign) / 2, verify: (a.openssl.verify + b.openssl.verify) / 2, combined: (a.openssl.combined + b.openssl.combined) / 2 },
  floor: (a.floor + b.floor) / 2,
});

/** One round of every line, back to back, each bracketed by a reference before and after it. */
async function round(s: Setup): Promise<Round> {
  const single = (pem: string) => admitted(s, WORKER, [{ kind: 'kubelet-serving', csr_pem: pem }]);
  const lines: [LineKey, () => Promise<Measured>][] = [
    [
      'sequential',
      async () => {
        const t = performance.now();
        const cpu = process.cpuUsage();
        for (const pem of s.csrs.slice(0, SEQUENTIAL)) await single(pem);
        return measured(SEQUENTIAL, performance.now() - t, cpuMicros(cpu));
      },
    ],
    ['concurrent', () => inFlight(s.csrs, single, () => 1)],
    ['workerCalls', () => inFlight(s.workerSets, (set) => admitted(s, WORKER, set), (set) => set.length)],
    ['masterCalls', () => inFlight(s.masterSets, (set) => admitted(s, MASTER, set), (set) => set.length)],
    [
      'cpuOnly',
      async () => {
        const t = performance.now();
        const cpu = process.cpuUsage();
        for (const pem of s.csrs) s.cpuOne(pem);
        return measured(s.csrs.length, performance.now() - t, cpuMicros(cpu));
      },
    ],
  ];
  const references = [reference()];
  const out = { around: {}, references } as Round;
  for (const [key, run] of lines) {
    out[key] = await run();
    references.push(reference());
    out.around[key] = mean2(references[references.length - 2]!, references[references.length - 1]!);
  }
  return out;
}

/**
 * node:crypto's own floor for one issuance: a one-shot sign with the CA's key plus a one-shot
 * verify with a key given as PEM (what readCsr does), per core, nothing else. No Node program
 * issues faster; the gap to openssl speed is OpenSSL 3's per-call setup behind node:crypto's
 * one-shot API (a context and an algorithm fetch per call; openssl speed reuses one context).
 */
function nodeCryptoFloor(): number {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const tbs = randomBytes(400); // about a leaf's to-be-signed part and a CSR's signed part
  const sig = sign('sha256', tbs, privateKey);
  const run = (n: number) => {
    for (let i = 0; i < n; i++) if (!sign('sha256', tbs, privateKey) || !verify('sha256', tbs, pem, sig)) throw new Error('node:crypto floor: verify failed');
  };
  run(500);
  const cpu = process.cpuUsage();
  run(3000);
  return perCore(3000, cpuMicros(cpu));
}

function opensslSpeed(): { sign: number; verify: number } {
  const out = execFileSync('openssl', ['speed', '-seconds', '1', 'ecdsap256'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const m = /nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`cannot read openssl speed output:\n${out}`);
  return { sign: Number(m[1]), verify: Number(m[2]) };
}

/** utime + stime of a process (all its threads), in microseconds. */
function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), from field 3: utime and stime are 14 and 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) / CLK_TCK) * 1e6;
}

/** cutime + cstime of this process: the CPU of every child it has waited for, in microseconds. */
function childrenCpuMicros(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[13]) + Number(f[14])) / CLK_TCK) * 1e6;
}
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** The cfssl to compare with: $CFSSL (say, a current one built from Go modules), else `cfssl` on PATH. */
const CFSSL = process.env.CFSSL || 'cfssl';

/** cfssl's version line ("1.2.0 (go1.19.8)"), or null when there is none to run. */
function cfsslVersion(): string | null {
  try {
    const out = execFileSync(CFSSL, ['version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const v = /Version:\s*(\S+)/.exec(out)?.[1] ?? '?';
    const go = /Runtime:\s*(\S+)/.exec(out)?.[1];
    return go ? `${v}, ${go}` : v;
  } catch {
    return null;
  }
}

/** cfssl 1.2 reads SEC1 ("EC PRIVATE KEY") keys; ours are PKCS#8. */
function sec1Key(caKey: string): string {
  const sec1 = join(dir, 'ca-sec1.key');
  writeFileSync(sec1, execFileSync('openssl', ['ec', '-in', caKey], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), { mode: 0o600 });
  return sec1;
}

/**
 * cfssl as the handbook runs it: its CLI, one process per certificate (`cfssl sign -ca ... CSR`,
 * the signing half of its `cfssl gencert | cfssljson`), as many at once as there are cores.
 * CPU is the children's (cutime + cstime, counted when each is waited for).
 */
async function cfsslCli(csrs: string[], caCert: string, caKey: string): Promise<Measured> {
  const n = Math.min(csrs.length, CFSSL_CLI_CERTS);
  const files = csrs.slice(0, n).map((pem, i) => {
    const f = join(dir, `cli-${i}.csr`);
    writeFileSync(f, pem);
    return f;
  });
  const signOne = (file: string) =>
    new Promise<void>((resolve, reject) => {
      const p = spawn(CFSSL, ['sign', '-loglevel', '5', '-ca', caCert, '-ca-key', caKey, file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      p.on('error', reject);
      p.on('close', (code) => (code === 0 && out.includes('BEGIN CERTIFICATE') ? resolve() : reject(new Error(`cfssl sign ${file} exited ${code}: ${err.trim()}`))));
    });
  await signOne(files[0]!); // warm the page cache
  const t = performance.now();
  const cpu = childrenCpuMicros();
  let next = 0;
  await Promise.all(
    Array.from({ length: availableParallelism() }, async () => {
      while (next < n) await signOne(files[next++]!);
    }),
  );
  return measured(n, performance.now() - t, childrenCpuMicros() - cpu);
}
const CFSSL_CLI_CERTS = 200;

async function cfsslServe(csrs: string[], caCert: string, caKey: string): Promise<Measured & { clientCores: number }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const proc = spawn(CFSSL, ['serve', '-address', '127.0.0.1', '-port', String(port), '-ca', caCert, '-ca-key', caKey], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/api/v1/cfssl/sign`;
  // node:http on kept-alive sockets, not fetch: fetch took a whole core of this 2-core machine
  // to drive cfssl, leaving it one, and cfssl's wall-clock rate measured our client.
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const sign = (pem: string) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({ certificate_request: pem });
      const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          try {
            const r = JSON.parse(text) as { success: boolean; errors?: unknown };
            if (r.success) resolve();
            else reject(new Error(`cfssl refused: ${JSON.stringify(r.errors)}`));
          } catch (err) {
            reject(err as Error);
          }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
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
    const n = csrs.length;
    const t = performance.now();
    const cpu = processCpuMicros(proc.pid!);
    const c0 = process.cpuUsage();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < n) await sign(csrs[next++]!);
      }),
    );
    const ms = performance.now() - t;
    return { ...measured(n, ms, processCpuMicros(proc.pid!) - cpu), clientCores: cpuMicros(c0) / 1000 / ms };
  } finally {
    agent.destroy();
    proc.kill();
  }
}

const ROUNDS = Number(process.argv[3] ?? 5);
const s = await setup();
// Warm-up: every path once, so the first round does not measure the JIT.
const warmSingle = s.csrs.slice(0, 200);
const warmMaster = s.masterSets.slice(0, 20);
for (const pem of warmSingle) await s.issuer.issueForNode(WORKER, [{ kind: 'kubelet-serving', csr_pem: pem }]);
for (const set of warmMaster) await s.issuer.issueForNode(MASTER, set);
const rounds: Round[] = [];
for (let r = 0; r < ROUNDS; r++) rounds.push(await round(s));
// Every issuance of the coordinator path was recorded durably, or its rate measured something else.
const certs = (sets: CertificateRequestIn[][]) => sets.reduce((n, set) => n + set.length, 0);
const expected = warmSingle.length + certs(warmMaster) + ROUNDS * (SEQUENTIAL + s.csrs.length + certs(s.workerSets) + certs(s.masterSets));
const recorded = s.state.issuance.all().length;
if (recorded !== expected) throw new Error(`expected ${expected} issuance records, found ${recorded}`);
await s.state.close();
await s.store.close();
let cli: Measured | null = null;
let serve: (Measured & { clientCores: number }) | null = null;
const cfsslV = cfsslVersion();
if (cfsslV) {
  const sec1 = sec1Key(s.caKey);
  cli = await cfsslCli(s.csrs, s.caCert, sec1);
  serve = await cfsslServe(s.csrs, s.caCert, sec1);
}

const median = (xs: number[]) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length % 2 ? a[(a.length - 1) / 2]! : (a[a.length / 2 - 1]! + a[a.length / 2]!) / 2;
};
const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
const med = (pick: (r: Round) => Measured): Measured => ({ wall: median(rounds.map((r) => pick(r).wall)), perCore: median(rounds.map((r) => pick(r).perCore)), cores: median(rounds.map((r) => pick(r).cores)) });
const line = (label: string, m: Measured) => console.log(`  ${label.padEnd(92)} ${fmt(Math.round(m.wall)).padStart(7)}/s wall, ${fmt(Math.round(m.perCore)).padStart(7)}/s per core of CPU (${m.cores.toFixed(2)} cores busy)`);
const verdict = (ratio: number, target: number) => `${ratio.toFixed(2)} (target >= ${target}: ${ratio >= target ? 'met' : 'NOT met'})`;
const LINES: { key: LineKey; label: string }[] = [
  { key: 'concurrent', label: 'muster, coordinator path, one CSR a call, 64 callers, 8 signing (parse+verify+authorise+sign+record, group commit)' },
  { key: 'workerCalls', label: `muster, coordinator path, a worker's calls (${kindsForRoles(['worker']).length} CSRs each), 64 callers, 8 signing` },
  { key: 'masterCalls', label: `muster, coordinator path, an etcd + master node's calls (${s.masterKinds} CSRs each), 64 callers, 8 signing` },
  { key: 'sequential', label: 'muster, coordinator path, one CSR a call, sequential (one fsync per call)' },
  { key: 'cpuOnly', label: 'muster, CPU part only (parse+verify+authorise+sign, no record), one at a time' },
];
const refs = rounds.flatMap((r) => r.references);
const combined = median(refs.map((r) => r.openssl.combined));
const floor = median(refs.map((r) => r.floor));
console.log(`certificates issued per second (${N} CSRs per line, ECDSA P-256, this machine: ${availableParallelism()} cores); median of ${ROUNDS} rounds, each line bracketed by openssl speed and node:crypto's own rate before and after it`);
for (const l of LINES) line(l.label, med((r) => r[l.key]));
console.log(`  openssl speed ecdsap256, one core: sign ${fmt(Math.round(median(refs.map((r) => r.openssl.sign))))}/s, verify ${fmt(Math.round(median(refs.map((r) => r.openssl.verify))))}/s, sign+verify ${fmt(Math.round(combined))}/s per core (median of ${refs.length} runs; range ${fmt(Math.round(Math.min(...refs.map((r) => r.openssl.combined))))}–${fmt(Math.round(Math.max(...refs.map((r) => r.openssl.combined))))})`);
console.log(`  node:crypto one-shot sign + verify alone (no parse, no DER, no record), one core: ${fmt(Math.round(floor))}/s per core = ${(floor / combined).toFixed(2)} of openssl's`);
if (!cli || !serve) console.log(`  cfssl: ${CFSSL} not found (apt-get install golang-cfssl, or CFSSL=PATH for another build), not measured`);
else {
  line(`cfssl ${cfsslV} sign CLI as the handbook runs it (a process per certificate, ${availableParallelism()} at once, ${CFSSL_CLI_CERTS} CSRs)`, cli);
  line(`cfssl ${cfsslV} serve (HTTP API on loopback, 8 in flight): cfssl at its fastest`, serve);
  console.log(`    (its HTTP client, in this process, kept ${serve.clientCores.toFixed(2)} cores busy meanwhile: not counted for cfssl)`);
}
// The target lines are the calls agents make: an agent asks for everything its assignment needs
// in one call, and renews a node's certificates in one call too (they share one renewal point,
// and every certificate past 70% of its life goes with the first due; agent/pki/cluster-certificates.ts),
// so the coordinator's issuance rate in the field is the rate of those calls. One CSR a call
// and the CPU part are printed beside them for what they show (the cost a call adds to a
// certificate; the floor of the path), not held to the target.
const TARGET_LINES: LineKey[] = ['workerCalls', 'masterCalls'];
const ratioLine = (l: { key: LineKey; label: string }, target: boolean) => {
  const ratios = rounds.map((r) => r[l.key].perCore / r.around[l.key].openssl.combined);
  const ofFloor = rounds.map((r) => r[l.key].perCore / r.around[l.key].floor);
  const m = median(ratios);
  console.log(`  ${l.label.split(' (')[0]!.replace('muster, ', '').padEnd(66)} per core / openssl sign+verify: ${target ? verdict(m, 0.5) : m.toFixed(2)}, rounds ${range(ratios)}; of node:crypto's own rate ${median(ofFloor).toFixed(2)}`);
  console.log(`    rounds in order: ${ratios.map((x) => x.toFixed(2)).join(' ')}`);
};
console.log("targets: the calls agents send (a node's whole assignment, or every certificate it has due for renewal, in one call); each line against the references taken just before and after it; median over the rounds and range:");
for (const l of LINES.filter((x) => TARGET_LINES.includes(x.key))) ratioLine(l, true);
if (cli && serve) {
  const w = med((r) => r.workerCalls);
  const m = med((r) => r.masterCalls);
  console.log(`  muster a worker's calls / cfssl CLI (as the HA handbook runs it), per core: ${verdict(w.perCore / cli.perCore, 10)}; wall: ${verdict(w.wall / cli.wall, 10)}`);
  console.log(`  muster an etcd + master node's calls / cfssl CLI, per core:               ${verdict(m.perCore / cli.perCore, 10)}; wall: ${verdict(m.wall / cli.wall, 10)}`);
}
console.log('beside them, not targets (what a call adds to a certificate, the floor of the path, cfssl at its fastest):');
for (const l of LINES.filter((x) => x.key !== 'sequential' && !TARGET_LINES.includes(x.key))) ratioLine(l, false);
if (cli && serve) {
  const c = med((r) => r.concurrent);
  const w = med((r) => r.workerCalls);
  console.log(`  muster one CSR a call / cfssl CLI, per core: ${(c.perCore / cli.perCore).toFixed(1)}x; wall: ${(c.wall / cli.wall).toFixed(1)}x`);
  console.log(`  muster a worker's calls / cfssl serve, per core: ${(w.perCore / serve.perCore).toFixed(1)}x; one CSR a call / cfssl serve, per core: ${(c.perCore / serve.perCore).toFixed(1)}x, wall: ${(c.wall / serve.wall).toFixed(1)}x`);
  // 10x cfssl serve can only be met if cfssl serve is at most a tenth of the practical limit itself.
  console.log(`  (10x cfssl serve per core would be ${fmt(Math.round(10 * serve.perCore))}/s: ${10 * serve.perCore > combined ? "above openssl speed's own sign+verify rate, so no signer on this machine can reach it" : "within openssl speed's sign+verify rate"})`);
}
