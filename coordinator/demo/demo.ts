// `muster demo`: a coordinator and three agents on this machine, no root needed. Each agent gets
// its own address (127.0.0.2-4), state dir and node root under the demo directory; the demo
// waits until all three applied their assignment, prints `muster status`, and says where to look.
import { parseArgs } from 'node:util';
import { rm, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve, relative } from 'node:path';
import type { CliIO } from '../../shared/cli/io.ts';
import { startCoordinator, type Coordinator } from '../server/coordinator.ts';
import { Agent } from '../../agent/loop/agent.ts';
import { nodeFactsSource } from '../../agent/loop/facts-source.ts';
import { compileAgentOptions } from '../../agent/config/options.ts';
import { createLogger } from '../../shared/log/logger.ts';
import { loadAdminConfig } from '../admin/config.ts';
import { connectAdmin } from '../admin/client.ts';
import { formatStatus } from '../cli/admin-commands.ts';
import { VERSION } from '../../shared/version.ts';
import { sleep } from '../../shared/retry.ts';

export const DEMO_NODES = [
  { name: 'node-1', address: '127.0.0.2' },
  { name: 'node-2', address: '127.0.0.3' },
  { name: 'node-3', address: '127.0.0.4' },
] as const;

export const DEMO_PLAN = `# Demo plan: one etcd+master node and two workers, all on this machine.
cluster:
  name: demo
  version: v1.31.2
  networking:
    type: overlay
    pod_cidr_block: 172.16.0.0/16
    service_cidr_block: 172.17.0.0/16
    update_hosts_files: true
  preflight:
    profile: prototyping
    # The three demo nodes are this one machine: they share its hostname and ports, and it has
    # no container runtime. Preflight still runs and reports (muster preflight), but "all"
    # keeps its errors from holding back the demo's assignments. Remove it on real nodes.
    ignore: [all]
etcd:
  expected_count: 1
  nodes:
    - host: node-1
      ip: 127.0.0.2
master:
  expected_count: 1
  nodes:
    - host: node-1
      ip: 127.0.0.2
worker:
  expected_count: 2
  nodes:
    - host: node-2
      ip: 127.0.0.3
    - host: node-3
      ip: 127.0.0.4
`;

export async function demoCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dir: { type: 'string', default: join(io.cwd, '.demo') },
      'keep-running': { type: 'boolean' },
      'timeout-seconds': { type: 'string', default: '60' },
    },
    strict: true,
  });
  const dir = resolve(values.dir);
  const keepRunning = values['keep-running'] ?? Boolean(process.stdin.isTTY);
  const rel = (p: string) => (p.startsWith(io.cwd) ? relative(io.cwd, p) || '.' : p);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const planFile = join(dir, 'muster-cluster.yaml');
  await writeFile(planFile, DEMO_PLAN);

  const ac = new AbortController();
  const onSignal = () => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let coordinator: Coordinator | null = null;
  const runs: Promise<void>[] = [];
  try {
    const dataDir = join(dir, 'coordinator');
    coordinator = await startCoordinator({
      dataDir,
      listen: '127.0.0.1:0',
      planFile,
      logger: createLogger({ level: 'error', component: 'coordinator' }),
    });
    io.out(`coordinator ${VERSION} listening on ${coordinator.address} (data in ${rel(dataDir)}); CA pin ${coordinator.identity.caPin}`);
    const { token } = await coordinator.state.createToken({ ttlMs: 3600_000, uses: DEMO_NODES.length, description: 'demo' });
    io.out(`join command: ${coordinator.joinCommand(token)}\n`);

    const agents = DEMO_NODES.map((n) => {
      const options = compileAgentOptions({
        coordinator: coordinator!.address,
        token,
        caHash: coordinator!.identity.caPin,
        nodeName: n.name,
        address: n.address,
        stateDir: join(dir, 'nodes', n.name, 'state'),
        root: join(dir, 'nodes', n.name, 'root'),
      });
      const agent = new Agent(options, { log: createLogger({ level: 'info', component: `agent ${n.name}` }), facts: nodeFactsSource(), version: VERSION });
      runs.push(agent.run(ac.signal));
      return agent;
    });

    const deadline = Date.now() + Number(values['timeout-seconds']) * 1000;
    while (!ac.signal.aborted) {
      const rows = coordinator.state.status();
      if (rows.length === DEMO_NODES.length && rows.every((r) => r.state === 'applied')) break;
      if (Date.now() > deadline) {
        io.err(`demo: not all agents applied their assignment within ${values['timeout-seconds']}s; states: ${rows.map((r) => `${r.name}=${r.state}${r.detail ? ` (${r.detail})` : ''}`).join(', ') || 'none joined'}`);
        return 1;
      }
      const failed = agents.findIndex((a) => a.phase === 'failed');
      if (failed >= 0) {
        await Promise.allSettled(runs);
        io.err(`demo: agent ${DEMO_NODES[failed]!.name} failed (see its log above)`);
        return 1;
      }
      await sleep(100, ac.signal).catch(() => undefined);
    }
    if (ac.signal.aborted) return 130;

    // The same path an operator uses: the admin CLI over mutual TLS.
    const admin = connectAdmin(await loadAdminConfig({ dataDir, env: io.env }));
    try {
      io.out(`\n${formatStatus(await admin.call('Status', {}))}\n`);
    } finally {
      admin.close();
    }
    const look: Array<[string, string]> = [
      [rel(join(dir, 'nodes', 'node-1', 'root', 'etc', 'muster', 'assignment.yaml')), 'what node-1 was told (roles, pod CIDR, peers)'],
      [`${rel(join(dir, 'nodes', 'node-2', 'state'))}/`, "an agent's identity (key 0600) and applied revision"],
      [`${rel(dataDir)}/`, "the coordinator's CA, admin.yaml and state.db"],
      [rel(planFile), 'the plan; edit it and run:'],
    ];
    const width = Math.max(...look.map(([path]) => path.length));
    io.out(
      [
        'All three agents joined, reported, and applied their assignment. Where to look:',
        ...look.map(([path, what]) => `  ${path.padEnd(width)}   ${what}`),
        `      npx muster plan apply ${rel(planFile)} --data-dir ${rel(dataDir)}`,
        `      npx muster status --data-dir ${rel(dataDir)}`,
        `      npx muster preflight --node node-1 --data-dir ${rel(dataDir)}   what preflight found (the demo plan ignores it)`,
      ].join('\n'),
    );
    if (keepRunning) {
      io.out('\nThe demo keeps running so you can try the commands above; press Ctrl-C to stop.');
      await new Promise<void>((r) => (ac.signal.aborted ? r() : ac.signal.addEventListener('abort', () => r(), { once: true })));
    }
    return 0;
  } finally {
    ac.abort(new Error('demo finished'));
    await Promise.allSettled(runs);
    await coordinator?.close();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    io.out('demo stopped.');
  }
}
