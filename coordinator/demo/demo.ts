// `muster demo`: a coordinator and three agents on this machine, no root needed. The coordinator
// runs in this process; each agent is a real `muster-agent run` process, found next to this
// program (agent-program.ts), with its own address (127.0.0.2-4), state dir and node root under
// the demo directory. Agent log lines go to stderr with the node's name in front. The demo waits
// until all three applied their assignment, prints `muster status`, and says where to look. If
// an agent exits before the demo is done, the demo says which, how, and what it last logged,
// stops the rest and exits 1.
import { parseArgs } from 'node:util';
import { rm, mkdir, writeFile, readFile } from 'node:fs/promises';
import { UsageError } from '../../shared/errors/index.ts';
import { join, resolve, relative, sep } from 'node:path';
import type { CliIO } from '../../shared/cli/io.ts';
import { startCoordinator, type Coordinator } from '../server/coordinator.ts';
import { createLogger } from '../../shared/log/logger.ts';
import { loadAdminConfig } from '../admin/config.ts';
import { connectAdmin } from '../admin/client.ts';
import { formatStatus } from '../cli/admin-commands.ts';
import { VERSION } from '../../shared/version.ts';
import { sleep } from '../../shared/retry.ts';
import { locateAgentProgram, runningProgram, type RunningProgram } from './agent-program.ts';
import { AgentProcess, type AgentExit } from './agent-process.ts';
import { nodeTree } from './node-tree.ts';

export const DEMO_NODES = [
  { name: 'node-1', address: '127.0.0.2' },
  { name: 'node-2', address: '127.0.0.3' },
  { name: 'node-3', address: '127.0.0.4' },
] as const;

export const DEMO_PLAN = `# Demo plan: one etcd+master node and two workers, all on this machine.
cluster:
  name: demo
  version: v1.36.3
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

/** The agents' config file: empty, so a real agent's /etc/muster/agent.yaml (often 0600, root's) stays out of the demo. */
const AGENT_CONFIG = '# muster demo: every agent setting comes from flags; this file keeps /etc/muster/agent.yaml out.\n';

/** This environment without MUSTER_* variables, which would otherwise reach the agents' settings. */
function agentEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('MUSTER_')));
}

/** One paragraph: which agent ended, how, and what it said last. */
export function describeAgentExit(e: AgentExit): string {
  const how = e.signal ? `was killed by ${e.signal}` : e.code === null ? 'could not be started' : `exited with code ${e.code}`;
  return [
    `demo: the agent of ${e.node}${e.pid ? ` (pid ${e.pid})` : ''} ${how} before the demo was done, so the demo stops the other agents and the coordinator. ` +
      (e.lastLines.length ? `Its last log lines:` : 'It logged nothing.'),
    ...e.lastLines.map((l) => `    ${l}`),
  ].join('\n');
}

export const DEMO_OPTIONS = {
  dir: { type: 'string' },
  'keep-running': { type: 'boolean' },
  'timeout-seconds': { type: 'string', default: '60' },
} as const;

export async function demoCommand(argv: string[], io: CliIO, from: RunningProgram = runningProgram()): Promise<number> {
  const { values: given } = parseArgs({ args: argv, options: DEMO_OPTIONS, allowNegative: true, strict: true });
  const values = { ...given, dir: given.dir ?? join(io.cwd, '.demo') };
  if (!/^\d+$/.test(values['timeout-seconds']) || Number(values['timeout-seconds']) < 1) throw new UsageError(`--timeout-seconds ${values['timeout-seconds']}: expected a whole number of seconds, 1 or more`);
  // Before anything is created: a missing agent program is a build problem, said as one.
  const program = locateAgentProgram(from);
  const dir = resolve(values.dir);
  const keepRunning = values['keep-running'] ?? Boolean(process.stdin.isTTY);
  // Paths under the working directory are printed relative to it, others as they are.
  const rel = (p: string) => (p === io.cwd || p.startsWith(io.cwd + sep) ? relative(io.cwd, p) || '.' : p);
  const planFile = join(dir, 'muster-cluster.yaml');
  // A plan the user edited in the demo dir is theirs: every run starts afresh except for it.
  const previous = await readFile(planFile, 'utf8').catch(() => null);
  const edited = previous !== null && previous !== DEMO_PLAN;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(planFile, edited ? previous : DEMO_PLAN);
  if (edited) io.err(`demo: using your edited plan ${rel(planFile)} (delete it to get the demo's own back)`);
  const agentConfig = join(dir, 'agent.yaml');
  await writeFile(agentConfig, AGENT_CONFIG);

  const agents: AgentProcess[] = [];
  const ac = new AbortController();
  // Aborted, with the AgentExit as reason, when an agent ends before the demo is done.
  const died = new AbortController();
  const done = AbortSignal.any([ac.signal, died.signal]);
  const reportDeath = (): number => {
    io.err(describeAgentExit(died.signal.reason as AgentExit));
    return 1;
  };
  // A second Ctrl-C while stopping kills the agents at once instead of leaving them behind.
  const onSignal = () => (ac.signal.aborted ? agents.forEach((a) => a.kill()) : ac.abort(new Error('interrupted')));
  // Last resort if this process ends some other way: the agents run in their own process groups.
  const onExit = () => agents.forEach((a) => a.kill());
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);

  let coordinator: Coordinator | null = null;
  try {
    const dataDir = join(dir, 'coordinator');
    coordinator = await startCoordinator({
      dataDir,
      listen: '127.0.0.1:0',
      planFile,
      logger: createLogger({ level: 'error', component: 'coordinator' }),
    });
    io.out(`coordinator ${VERSION} listening on ${coordinator.address} (data in ${rel(dataDir)}); CA pin ${coordinator.identity.caPin}`);
    const { token } = await coordinator.state.tokens.create({ ttlMs: 3600_000, uses: DEMO_NODES.length, description: 'demo' });
    io.out(`join command: ${coordinator.joinCommand(token)}\n`);
    io.out(`agents: ${program.path}, one process per node; their log lines follow on stderr, prefixed with the node name\n`);

    for (const n of DEMO_NODES) {
      const agent = new AgentProcess({
        node: n.name,
        program,
        args: [
          '--coordinator', coordinator.address,
          '--token', token,
          '--ca-hash', coordinator.identity.caPin,
          '--node-name', n.name,
          '--address', n.address,
          '--state-dir', join(dir, 'nodes', n.name, 'state'),
          '--root', join(dir, 'nodes', n.name, 'root'),
          '--probe-port', '0',
          '--config', agentConfig,
        ],
        env: agentEnv(io.env),
        onLine: (line) => io.err(line),
      });
      agents.push(agent);
      void agent.exited.then((e) => {
        if (!ac.signal.aborted) died.abort(e);
      });
    }

    const deadline = Date.now() + Number(values['timeout-seconds']) * 1000;
    while (!done.aborted) {
      const rows = coordinator.state.status();
      if (rows.length === DEMO_NODES.length && rows.every((r) => r.state === 'applied')) break;
      if (Date.now() > deadline) {
        io.err(`demo: not all agents applied their assignment within ${values['timeout-seconds']}s; states: ${rows.map((r) => `${r.name}=${r.state}${r.detail ? ` (${r.detail})` : ''}`).join(', ') || 'none joined'}`);
        return 1;
      }
      await sleep(100, done).catch(() => undefined);
    }
    if (died.signal.aborted) return reportDeath();
    if (ac.signal.aborted) return 130;

    // The same path an operator uses: the admin CLI over mutual TLS.
    const admin = connectAdmin(await loadAdminConfig({ dataDir, env: io.env }));
    try {
      io.out(`\n${formatStatus(await admin.call('Status', {}))}\n`);
    } finally {
      admin.close();
    }
    // Each node's rendered tree, as its agent wrote it (keys marked, not shown).
    for (const n of DEMO_NODES) io.out(await nodeTree(n.name, join(dir, 'nodes', n.name, 'root'), rel));
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
        `      npx muster render --node node-1 --show /var/lib/kubelet/config.yaml --data-dir ${rel(dataDir)}   any node file, from the coordinator`,
      ].join('\n'),
    );
    if (keepRunning) {
      io.out('\nThe demo keeps running so you can try the commands above; press Ctrl-C to stop.');
      await new Promise<void>((r) => (done.aborted ? r() : done.addEventListener('abort', () => r(), { once: true })));
    }
    // An agent may also die while the status is fetched and printed.
    return died.signal.aborted ? reportDeath() : 0;
  } finally {
    ac.abort(new Error('demo finished'));
    await Promise.all(agents.map((a) => a.stop()));
    await coordinator?.close();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('exit', onExit);
    io.out('demo stopped.');
  }
}
