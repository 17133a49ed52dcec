// The etcd certificates of the cluster PKI in a real three-member etcd cluster: a real coordinator
// with a plan of three etcd nodes, three real agents that get their certificates through
// IssueCertificates and write them where kubeadm would, then one etcd process per node on that
// node's address with TLS and client-certificate auth on both the client and the peer links, and
// its --initial-cluster taken from the assignment's etcd_members. etcdctl, as the health check and
// as the API server, must get through; a certificate of another CA, or none, must not.
//
// The cluster is set up once, lazily, by the first test that needs it, not in test.before: uvu
// returns from a `finally` after its hooks, so an error thrown by a before hook (etcd missing, say)
// is swallowed; the tests do not run, nothing says why, and `node <file>` exits 0.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, testCoordinator, runAgent, waitFor, type RunningAgent } from '../helpers/cluster.ts';
import { addressBlock } from '../helpers/addresses.ts';
import { fleetPlan } from '../helpers/plans.ts';
import { requireTool } from '../helpers/tools.ts';
import { CLUSTER_CA_PATHS, certKind } from '../../shared/pki/catalogue.ts';
import { createCa, issueLeaf } from '../../shared/pki/x509.ts';
import type { Coordinator } from '../../coordinator/server/coordinator.ts';
import { CLUSTER_PKI } from '../../shared/constants.ts';
import { splitBundle } from '../../shared/pki/bundle.ts';
import { main } from '../../coordinator/cli/main.ts';
import { memoryIO } from '../../shared/cli/io.ts';

const net = addressBlock(import.meta.url);
const NODES = [
  { name: 'node-1', ip: net.host(2) },
  { name: 'node-2', ip: net.host(3) },
  { name: 'node-3', ip: net.host(4) },
] as const;

// Preflight is not under test here (the three nodes are one machine): ignore: [all] keeps it from
// holding back the assignments, as in the demo plan.
const PLAN = fleetPlan({ name: 'etcd3', etcd: NODES, masters: [NODES[0]], workers: [] });

/** Bounds on every wait: etcd elects within a few seconds; a loaded 2-core machine gets slack. */
const AGENTS_APPLIED_MS = 30_000;
const HEALTHY_MS = 25_000;
const ETCDCTL_MS = 15_000;
const STOP_MS = 5_000;

interface Member {
  name: string;
  ip: string;
  clientUrl: string;
  peerUrl: string;
  args: string[];
  child: ChildProcess;
  /** What etcd logged (bounded), for failure messages and for the reason of a refusal. */
  log: string[];
}

interface Cluster {
  dir: string;
  /** Node name -> the node root its agent wrote to. */
  roots: Map<string, string>;
  members: Member[];
  endpoints: string;
}

const dir = tempDir('muster-etcd-');
let c: (Coordinator & { log: { lines: string[] } }) | undefined;
const agents: RunningAgent[] = [];
const children: ChildProcess[] = [];
let setup: Promise<Cluster> | null = null;

// Never leave an etcd behind, even when the file dies before test.after.
process.on('exit', () => {
  for (const ch of children) if (ch.exitCode === null && ch.signalCode === null) ch.kill('SIGKILL');
});

const cluster = () => (setup ??= startCluster());

async function startCluster(): Promise<Cluster> {
  requireTool('etcd', 'etcd-server');
  requireTool('etcdctl', 'etcd-client');
  const planFile = join(dir, 'plan.yaml');
  writeFileSync(planFile, PLAN);
  c = await testCoordinator(join(dir, 'coord'), { planFile, listen: `${net.host(1)}:0` });
  const coordinator = c;
  const { token } = await coordinator.state.tokens.create({ uses: NODES.length });
  const roots = new Map<string, string>();
  for (const n of NODES) {
    const root = join(dir, n.name, 'root');
    roots.set(n.name, root);
    agents.push(
      runAgent({ coordinator: coordinator.address, token, caHash: coordinator.identity.caPin, nodeName: n.name, address: n.ip, stateDir: join(dir, n.name, 'state'), root }, undefined, {
        // The agent restarts its etcd when its files change, as the apply engine will; before
        // the members run (first apply), there is nothing to restart.
        components: { restart: async (components) => (components.includes('etcd') && running.has(n.name) ? restartMember(running.get(n.name)!) : undefined) },
      }),
    );
  }
  await waitFor(
    'all three agents applied an assignment holding etcd',
    () => NODES.every((n) => coordinator.state.assignments.get(n.name)?.body.roles.includes('etcd')) && agents.every((a) => a.agent.appliedRevision > 0),
    AGENTS_APPLIED_MS,
  );
  for (const [i, a] of agents.entries()) {
    const cannot = a.log.lines.filter((l) => l.includes('cannot apply'));
    assert.equal(cannot, [], `${NODES[i]!.name}: ${cannot.join('\n')}`);
  }

  const members: Member[] = [];
  for (const n of NODES) {
    const body = coordinator.state.assignments.get(n.name)!.body;
    const own = body.etcd_members.find((m) => m.name === n.name);
    assert.ok(own, `${n.name}'s assignment lists it among etcd_members: ${JSON.stringify(body.etcd_members)}`);
    const initialCluster = body.etcd_members.map((m) => `${m.name}=${m.peer_url}`).join(',');
    const at = (p: string) => join(roots.get(n.name)!, p);
    const server = certKind('etcd-server')!;
    const peer = certKind('etcd-peer')!;
    for (const f of [server.certPath, server.keyPath, peer.certPath, peer.keyPath, CLUSTER_CA_PATHS.etcd]) assert.ok(existsSync(at(f)), `${n.name}'s agent wrote ${f}`);
    const dataDir = join(dir, n.name, 'etcd-data');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const args = [
      `--name=${n.name}`,
      `--data-dir=${dataDir}`,
      `--listen-client-urls=https://${n.ip}:2379`,
      `--advertise-client-urls=${own.client_url}`,
      `--listen-peer-urls=https://${n.ip}:2380`,
      `--initial-advertise-peer-urls=${own.peer_url}`,
      `--initial-cluster=${initialCluster}`,
      '--initial-cluster-state=new',
      '--initial-cluster-token=muster-etcd-test',
      `--cert-file=${at(server.certPath)}`,
      `--key-file=${at(server.keyPath)}`,
      `--peer-cert-file=${at(peer.certPath)}`,
      `--peer-key-file=${at(peer.keyPath)}`,
      `--trusted-ca-file=${at(CLUSTER_CA_PATHS.etcd)}`,
      `--peer-trusted-ca-file=${at(CLUSTER_CA_PATHS.etcd)}`,
      '--client-cert-auth',
      '--peer-client-cert-auth',
      '--logger=zap',
      '--log-outputs=stderr',
    ];
    const m = startEtcd(n.name, n.ip, own.client_url, own.peer_url, args);
    members.push(m);
    running.set(n.name, m);
  }
  return { dir, roots, members, endpoints: members.map((m) => m.clientUrl).join(',') };
}

/** Members by node name, once started (the agents' restarters use it). */
const running = new Map<string, Member>();
/** Every restart the agents asked for, in order, with how many other members were restarting at the time. */
const restartLog: { node: string; othersDown: number }[] = [];

/** SIGTERM, wait for the exit, start again on the same data dir, wait until this member is healthy. */
/** Members between their SIGTERM and being healthy again. */
const restarting = new Set<string>();

async function restartMember(m: Member): Promise<void> {
  restartLog.push({ node: m.name, othersDown: [...restarting].filter((n) => n !== m.name).length });
  restarting.add(m.name);
  try {
    await restartOne(m);
  } finally {
    restarting.delete(m.name);
  }
}

async function restartOne(m: Member): Promise<void> {
  await new Promise<void>((resolve) => {
    if (m.child.exitCode !== null || m.child.signalCode !== null) return resolve();
    const t = setTimeout(() => m.child.kill('SIGKILL'), STOP_MS);
    m.child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    m.child.kill('SIGTERM');
  });
  const again = startEtcd(m.name, m.ip, m.clientUrl, m.peerUrl, m.args);
  Object.assign(m, { child: again.child, log: again.log });
  running.set(m.name, m);
  const root = join(dir, m.name, 'root');
  const hc = certKind('etcd-healthcheck-client')!;
  const tls = { cacert: join(root, CLUSTER_CA_PATHS.etcd), cert: join(root, hc.certPath), key: join(root, hc.keyPath) };
  const deadline = Date.now() + HEALTHY_MS;
  for (let i = 0; i < 200; i++) {
    if (m.child.exitCode !== null) throw new Error(`etcd ${m.name} exited after its restart:\n${m.log.slice(-15).join('\n')}`);
    const r = await etcdctl(m.clientUrl, tls, ['endpoint', 'health']);
    if (r.code === 0) return;
    if (Date.now() > deadline) throw new Error(`etcd ${m.name} not healthy ${HEALTHY_MS} ms after its restart: ${r.stderr}\n${m.log.slice(-10).join('\n')}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

function startEtcd(name: string, ip: string, clientUrl: string, peerUrl: string, args: string[]): Member {
  // No ETCD_* or ETCDCTL_* variable of this environment may reach etcd's settings.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD')));
  const child = spawn('etcd', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const log: string[] = [];
  const keep = (d: Buffer) => {
    for (const l of d.toString().split('\n')) if (l && log.length < 5_000) log.push(l);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('error', (e) => log.push(`spawn error: ${e.message}`));
  return { name, ip, clientUrl, peerUrl, args, child, log };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** etcdctl (API v3) with the given TLS files; never throws, bounded in time. */
function etcdctl(endpoints: string, tls: { cacert: string; cert?: string; key?: string }, args: string[], commandTimeoutS = 5): Promise<Run> {
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD'))), ETCDCTL_API: '3' };
  const flags = [`--endpoints=${endpoints}`, `--cacert=${tls.cacert}`, '--dial-timeout=3s', `--command-timeout=${commandTimeoutS}s`];
  if (tls.cert) flags.push(`--cert=${tls.cert}`);
  if (tls.key) flags.push(`--key=${tls.key}`);
  return new Promise((resolve) => {
    execFile('etcdctl', [...flags, ...args], { env, timeout: ETCDCTL_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function exited(k: Cluster): string | null {
  const dead = k.members.find((m) => m.child.exitCode !== null || m.child.signalCode !== null);
  return dead ? `etcd ${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}):\n${dead.log.slice(-15).join('\n')}` : null;
}

function files(k: Cluster, node: string, kind: string) {
  const ck = certKind(kind)!;
  const root = k.roots.get(node)!;
  return { cacert: join(root, CLUSTER_CA_PATHS.etcd), cert: join(root, ck.certPath), key: join(root, ck.keyPath) };
}

interface HealthRow {
  endpoint: string;
  health: boolean;
  error?: string;
}

let healthy = false;

async function waitHealthy(k: Cluster): Promise<HealthRow[]> {
  let last: Run | null = null;
  const deadline = Date.now() + HEALTHY_MS;
  for (let attempt = 0; attempt < 200; attempt++) {
    const dead = exited(k);
    if (dead) throw new Error(dead);
    last = await etcdctl(k.endpoints, files(k, 'node-1', 'etcd-healthcheck-client'), ['endpoint', 'health', '--cluster', '-w', 'json']);
    if (last.code === 0) {
      const rows = JSON.parse(last.stdout) as HealthRow[];
      if (rows.length === k.members.length && rows.every((r) => r.health)) {
        healthy = true;
        return rows;
      }
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`etcd not healthy within ${HEALTHY_MS} ms; last etcdctl: code ${last?.code}\n${last?.stdout}\n${last?.stderr}\n` + k.members.map((m) => `--- ${m.name}\n${m.log.slice(-8).join('\n')}`).join('\n'));
}

async function healthyCluster(): Promise<Cluster> {
  const k = await cluster();
  if (!healthy) await waitHealthy(k);
  return k;
}

test.after(async () => {
  // SIGKILL: the data is thrown away, and a member stopped gracefully first hands off leadership.
  await Promise.all(
    children.map(
      (ch) =>
        new Promise<void>((resolve) => {
          if (ch.exitCode !== null || ch.signalCode !== null) return resolve();
          const t = setTimeout(resolve, STOP_MS);
          ch.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          ch.kill('SIGKILL');
        }),
    ),
  );
  for (const a of agents) await a.stop();
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('three etcd members on the issued server and peer certificates form a cluster: endpoint health --cluster with the healthcheck-client certificate is healthy on all three', async () => {
  const k = await cluster();
  const rows = await waitHealthy(k);
  assert.equal(rows.map((r) => r.endpoint).sort(), k.members.map((m) => m.clientUrl).sort());
  // The members the cluster agreed on are the assignment's etcd_members, names and URLs.
  const list = await etcdctl(k.endpoints, files(k, 'node-2', 'etcd-healthcheck-client'), ['member', 'list', '-w', 'json']);
  assert.is(list.code, 0, list.stderr);
  const members = (JSON.parse(list.stdout) as { members: { name: string; peerURLs: string[]; clientURLs: string[] }[] }).members;
  assert.equal(
    members.map((m) => ({ name: m.name, peer: m.peerURLs, client: m.clientURLs })).sort((a, b) => a.name.localeCompare(b.name)),
    c!.state.assignments.get('node-1')!.body.etcd_members.map((m) => ({ name: m.name, peer: [m.peer_url], client: [m.client_url] })),
  );
  assert.is(exited(k), null);
});

test("the master's apiserver-etcd-client certificate writes and reads through every member", async () => {
  const k = await healthyCluster();
  const api = files(k, 'node-1', 'apiserver-etcd-client');
  const put = await etcdctl(k.members[0]!.clientUrl, api, ['put', '/registry/muster-test', 'written-by-apiserver']);
  assert.is(put.code, 0, put.stderr);
  assert.is(put.stdout.trim(), 'OK');
  // Read back through each member (linearizable reads go through the leader's quorum).
  for (const m of k.members) {
    const get = await etcdctl(m.clientUrl, api, ['get', '/registry/muster-test', '--print-value-only']);
    assert.is(get.code, 0, `${m.name}: ${get.stderr}`);
    assert.is(get.stdout.trim(), 'written-by-apiserver', m.name);
  }
});

test("client certificates of another CA (a stranger's, the cluster's kubernetes CA's) are refused, and so is a client without one; none writes anything", async () => {
  const k = await healthyCluster();
  const strangerCa = await createCa('not-the-etcd-ca', 1);
  const stranger = await issueLeaf(strangerCa, { cn: 'kube-apiserver-etcd-client', usages: ['client'], days: 1 });
  writeFileSync(join(k.dir, 'stranger.crt'), stranger.certPem);
  writeFileSync(join(k.dir, 'stranger.key'), stranger.keyPem, { mode: 0o600 });
  const etcdCa = files(k, 'node-2', 'etcd-healthcheck-client').cacert;
  // A client certificate the coordinator issued, but from the kubernetes CA: the CAs are apart.
  const kubeClient = files(k, 'node-1', 'apiserver-kubelet-client');
  // One refusal per member, so each member's log holds the reason of exactly one.
  const cases = [
    { what: 'a certificate of another CA', member: k.members[0]!, tls: { cacert: etcdCa, cert: join(k.dir, 'stranger.crt'), key: join(k.dir, 'stranger.key') }, key: 'stranger', reason: /rejected connection.*unknown authority/ },
    { what: "the kubernetes CA's apiserver-kubelet-client", member: k.members[1]!, tls: { cacert: etcdCa, cert: kubeClient.cert, key: kubeClient.key }, key: 'kubelet-client', reason: /rejected connection.*unknown authority/ },
    { what: 'no certificate', member: k.members[2]!, tls: { cacert: etcdCa }, key: 'anonymous', reason: /rejected connection.*didn't provide a certificate/ },
  ];
  const logFrom = cases.map((x) => x.member.log.length);
  // Refused in the handshake, so each call ends at its command timeout: short, and side by side.
  const runs = await Promise.all(cases.map((x) => etcdctl(x.member.clientUrl, x.tls, ['put', x.key, 'x'], 2)));
  for (const [i, x] of cases.entries()) assert.is.not(runs[i]!.code, 0, `${x.what} got through: ${runs[i]!.stdout}`);
  // etcdctl 3.4 reports only "context deadline exceeded"; etcd logs why it refused.
  const since = (i: number) => cases[i]!.member.log.slice(logFrom[i]).join('\n');
  await waitFor('each member to log its refusal', () => cases.every((x, i) => x.reason.test(since(i))), 5_000).catch(() =>
    assert.unreachable(cases.map((x, i) => `${x.member.name} (${x.what}) logged:\n${since(i)}\netcdctl: ${runs[i]!.stderr}`).join('\n')),
  );

  const api = files(k, 'node-1', 'apiserver-etcd-client');
  const control = await etcdctl(k.endpoints, api, ['put', 'control', 'x']);
  assert.is(control.code, 0, control.stderr);
  const all = await etcdctl(k.endpoints, api, ['get', '', '--prefix', '--keys-only']);
  assert.is(all.code, 0, all.stderr);
  const keys = all.stdout.split('\n').filter(Boolean);
  assert.ok(keys.includes('control'), `the listing works: ${keys.join(', ')}`);
  for (const x of cases) assert.not.ok(keys.includes(x.key), `${x.what} wrote ${x.key}`);
});

test('the etcd CA is rotated under the running cluster: one member restart at a time, every write in between succeeds, and at the end a certificate of the old CA is refused', async () => {
  const k = await healthyCluster();
  const oldCaPem = readFileSync(join(dir, 'coord', CLUSTER_PKI.etcd.cert), 'utf8');
  const oldCa = { certPem: oldCaPem, keyPem: readFileSync(join(dir, 'coord', CLUSTER_PKI.etcd.key), 'utf8') };
  restartLog.length = 0;
  // The API server's view: a write through all three members, over and over, until the end.
  // A member shutting down may fail one call on its way out (etcd 3.4 answers an in-flight call
  // with a bare HTTP 200, "missing content-type field", which etcdctl does not retry); an API
  // server retries it. So a write may take up to three attempts 300 ms apart: what must never
  // happen is a cluster that cannot take a write at all -- lost quorum, which lasts seconds.
  let writing = true;
  const writes: { ok: boolean; at: number; attempts: string[] }[] = [];
  const writer = (async () => {
    for (let i = 0; writing && i < 2_000; i++) {
      const attempts: string[] = [];
      let ok = false;
      for (let t = 0; t < 3 && !ok; t++) {
        if (t) await new Promise((res) => setTimeout(res, 300));
        const r = await etcdctl(k.endpoints, files(k, 'node-1', 'apiserver-etcd-client'), ['put', 'rotation-probe', String(i)], 8);
        ok = r.code === 0;
        if (!ok) attempts.push(r.stderr.trim().split('\n').pop() ?? '');
      }
      writes.push({ ok, at: Date.now(), attempts });
      await new Promise((res) => setTimeout(res, 100));
    }
  })();
  const io = memoryIO();
  const code = await main(['certs', 'rotate-ca', '--kind', 'etcd', '--wait', '--timeout', '180s', '--data-dir', join(dir, 'coord')], io);
  writing = false;
  await writer;
  assert.is(code, 0, `${io.stdout}\n${io.stderr}`);
  const failed = writes.filter((w) => !w.ok);
  assert.equal(failed, [], `every write during the rotation succeeded within three attempts (${writes.length} writes; retried: ${writes.filter((w) => w.attempts.length).length})`);
  assert.ok(writes.length >= 10, `the writer kept writing throughout (${writes.length} writes)`);
  // Three stages, three members: nine restarts, never two members down at once.
  assert.is(restartLog.length, 9, JSON.stringify(restartLog));
  for (const n of NODES) assert.is(restartLog.filter((r) => r.node === n.name).length, 3, n.name);
  assert.is(Math.max(...restartLog.map((r) => r.othersDown)), 0, 'a member restarts only while the others run');
  assert.is(exited(k), null);

  // Only the new CA now: health with the new healthcheck-client works; a client certificate the
  // old CA signs (its key kept in retired/) is refused by every member.
  const rows = await waitHealthy(k);
  assert.ok(rows.every((r) => r.health));
  for (const n of NODES) assert.is(splitBundle(readFileSync(files(k, n.name, 'etcd-server').cacert, 'utf8')).length, 1, `${n.name} trusts one etcd CA`);
  const stale = await issueLeaf(oldCa, { cn: 'kube-apiserver-etcd-client', usages: ['client'], days: 1 });
  writeFileSync(join(k.dir, 'old-ca-client.crt'), stale.certPem);
  writeFileSync(join(k.dir, 'old-ca-client.key'), stale.keyPem, { mode: 0o600 });
  const logFrom = k.members.map((m) => m.log.length);
  const tries = await Promise.all(k.members.map((m) => etcdctl(m.clientUrl, { cacert: files(k, 'node-1', 'etcd-server').cacert, cert: join(k.dir, 'old-ca-client.crt'), key: join(k.dir, 'old-ca-client.key') }, ['put', 'old-ca', 'x'], 2)));
  for (const [i, t] of tries.entries()) assert.is.not(t.code, 0, `${k.members[i]!.name} accepted a client of the old CA`);
  await waitFor('each member to log the refusal', () => k.members.every((m, i) => /rejected connection.*unknown authority/.test(m.log.slice(logFrom[i]).join('\n'))), 5_000);
  assert.is.not(readFileSync(join(dir, 'coord', CLUSTER_PKI.etcd.cert), 'utf8'), oldCaPem, 'the coordinator holds the new CA');
});

test.run();
