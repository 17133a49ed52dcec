// The operator's side of both programs, as a table: each row runs the real entry point
// (coordinator/cli/main.ts, agent/cli/main.ts, or the built bundle) as its own process and
// asserts the exit code and what it printed. A real coordinator runs on this file's loopback
// block; interactive cases (Ctrl-C at a prompt, colour on a terminal) run under `script`, which
// gives the program a pseudo-terminal. Every row also checks that no library text leaked out
// (a stack trace, an ERR_ code, OpenSSL's or grpc-js's words).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { addressBlock } from '../helpers/addresses.ts';
import { tempDir, testCoordinator, threeNodePlan, waitFor } from '../helpers/cluster.ts';
import type { Coordinator } from '../../coordinator/server/coordinator.ts';
import { requireTool } from '../helpers/tools.ts';

const net = addressBlock(import.meta.url);
const ROOT = join(import.meta.dirname, '../..');
const ENTRY = { muster: join(ROOT, 'coordinator/cli/main.ts'), 'muster-agent': join(ROOT, 'agent/cli/main.ts') } as const;
type Program = keyof typeof ENTRY;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** This environment without MUSTER_* (they would change the programs' settings) and without NO_COLOR. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MUSTER_') && k !== 'NO_COLOR'));
  return { ...env, ...extra };
}

/** Runs a program to its end (killed after timeoutMs), collecting what it printed. */
function run(command: string, args: string[], o: { env?: Record<string, string>; cwd?: string; timeoutMs?: number; onStdout?: (all: string, write: (s: string) => void) => void } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: cleanEnv(o.env), cwd: o.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 30_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      o.onStdout?.(stdout, (s) => child.stdin.write(s));
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const cli = (program: Program, args: string[], o: Parameters<typeof run>[2] = {}) => run(process.execPath, [ENTRY[program], ...args], o);

/** Text a user must never read: a stack, a Node error code, the TLS or gRPC library's words. */
const RAW = [/\n\s+at .+:\d+:\d+\)?/, /\bERR_[A-Z_]{4,}/, /Resolution note/, /No connection established/, /SSL routines/, /wrong version number/, /Unknown option '/, /\b(TypeError|RangeError)\b/, /EADDRINUSE|ECONNREFUSED/];

interface Row {
  name: string;
  program: Program;
  args: () => string[];
  code: number;
  stdout?: RegExp[];
  stderr?: RegExp[];
  /** Checks on stdout parsed as JSON. */
  json?: (value: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any -- rows read what the program printed
  env?: Record<string, string>;
  after?: () => void;
  /** The row (by name) whose effect this one reads: it runs only once that one has finished (rows run three at a time). */
  needs?: string;
}

let dir = '';
let dataDir = '';
let coordinator: Coordinator;
let notCoordinator: Server;
let notCoordinatorPort = 0;
let closedPort = 0;
const admin = () => ['--data-dir', dataDir];

const ROWS: Row[] = [
  // Help, and finding the command.
  { name: 'top-level --help', program: 'muster', args: () => ['--help'], code: 0, stdout: [/^muster .*: pull-based/, /Usage: muster COMMAND/, /plan apply/, /completion/] },
  { name: 'no command: the help, exit 2', program: 'muster', args: () => [], code: 2, stdout: [/Usage: muster COMMAND/] },
  { name: 'a group alone lists its subcommands', program: 'muster', args: () => ['plan'], code: 2, stdout: [/Usage: muster plan COMMAND/, /\n {2}init /, /\n {2}validate /, /\n {2}import /, /\n {2}apply /, /\n {2}history /, /\n {2}show /] },
  { name: 'a subcommand --help: its flags', program: 'muster', args: () => ['token', 'create', '--help'], code: 0, stdout: [/Usage: muster token create/, /--ttl DURATION/, /0 = never expires/, /--json/, /--data-dir DIR/] },
  { name: 'unknown command: the nearest one', program: 'muster', args: () => ['stats'], code: 2, stderr: [/unknown command "stats"; did you mean "status"\?/] },
  { name: 'unknown subcommand: the nearest one', program: 'muster', args: () => ['token', 'lst'], code: 2, stderr: [/unknown command "token lst"; did you mean "token list"\?/] },
  { name: 'unknown node subcommand exits 2', program: 'muster', args: () => ['node', 'frobnicate'], code: 2, stderr: [/unknown command "node frobnicate"/] },
  { name: 'unknown flag: the nearest one', program: 'muster', args: () => ['demo', '--keep'], code: 2, stderr: [/unknown flag --keep; did you mean "--keep-running"\?/, /usage: muster demo /] },
  { name: '--keep-running=false is a boolean written out', program: 'muster', args: () => ['demo', '--keep-running=false', '--timeout-seconds', 'soon'], code: 2, stderr: [/--timeout-seconds soon: expected a whole number/] },
  { name: 'agent: --probe-port is in run --help', program: 'muster-agent', args: () => ['run', '--help'], code: 0, stdout: [/--probe-port PORT/, /--coordinator HOST:PORT/, /--log-format FORMAT/] },
  { name: 'agent: unknown command', program: 'muster-agent', args: () => ['rnu'], code: 2, stderr: [/did you mean "run"\?/] },
  { name: 'agent: bad --probe-port is a usage error', program: 'muster-agent', args: () => ['run', '--coordinator', `${net.host(1)}:1`, '--probe-port', 'abc', '--state-dir', join(dir, 'agent-x')], code: 2, stderr: [/--probe-port: expected a TCP port/] },
  { name: 'version', program: 'muster', args: () => ['--version'], code: 0, stdout: [/^\d+\.\d+\.\d+/] },

  // Usage errors exit 2, before anything is contacted.
  { name: 'missing argument: token revoke', program: 'muster', args: () => ['token', 'revoke', ...admin()], code: 2, stderr: [/which token\?/, /usage: muster token revoke ID/] },
  { name: 'missing argument: plan apply', program: 'muster', args: () => ['plan', 'apply', ...admin()], code: 2, stderr: [/which plan\?/] },
  { name: 'missing flag: admin issue', program: 'muster', args: () => ['admin', 'issue', '-o', join(dir, 'x.yaml'), ...admin()], code: 2, stderr: [/--name LABEL is missing/] },
  { name: '--ttl 5x', program: 'muster', args: () => ['token', 'create', '--ttl', '5x', ...admin()], code: 2, stderr: [/--ttl: "5x" is not a duration/] },
  { name: '--ttl past a year is refused', program: 'muster', args: () => ['token', 'create', '--ttl', '9000d', ...admin()], code: 2, stderr: [/longer than 365d/, /0 for a token that never expires/] },
  { name: '--uses abc', program: 'muster', args: () => ['token', 'create', '--uses', 'abc', ...admin()], code: 2, stderr: [/--uses abc: expected a whole number/] },
  { name: '--max-unverified 1.5', program: 'muster', args: () => ['coordinator', 'serve', '--data-dir', join(tmpdir(), 'muster-never-made'), '--max-unverified', '1.5'], code: 2, stderr: [/--max-unverified 1.5: expected a whole number/] },
  { name: '--listen nonsense (and the default data dir said)', program: 'muster', args: () => ['coordinator', 'serve', '--listen', 'nonsense'], code: 2, stderr: [/no --data-dir \(or MUSTER_DATA_DIR\) given; using the default \/var\/lib\/muster/, /--listen nonsense: expected HOST:PORT/] },
  { name: 'plan show takes a number', program: 'muster', args: () => ['plan', 'show', 'latest', ...admin()], code: 2, stderr: [/plan show takes one revision number/] },

  // Results and failures as JSON.
  {
    name: 'token create --json', program: 'muster', args: () => ['token', 'create', '--json', '--description', 'table', ...admin()], code: 0,
    json: (v) => {
      assert.match(v.token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
      assert.match(v.join_command, /^muster-agent run --coordinator \S+ --token \S+ --ca-hash sha256:[0-9a-f]{64}$/);
      assert.match(v.expires_at, /^\d{4}-\d\d-\d\dT/);
    },
  },
  { name: 'token create --ttl 0: never expires', program: 'muster', args: () => ['token', 'create', '--ttl', '0', '--json', ...admin()], code: 0, json: (v) => assert.is(v.expires_at, null) },
  { name: 'token list shows it as never expiring', needs: 'token create --ttl 0: never expires', program: 'muster', args: () => ['token', 'list', ...admin()], code: 0, stdout: [/\n\w{6}\s+never\s+0\/∞\s+valid/] },
  {
    name: 'plan show --json', program: 'muster', args: () => ['plan', 'show', '--json', ...admin()], code: 0,
    json: (v) => {
      assert.is(v.revision, 1);
      assert.match(v.plan_yaml, /name: table/);
    },
  },
  {
    name: 'plan history --json carries the plan text', program: 'muster', args: () => ['plan', 'history', '--json', ...admin()], code: 0,
    json: (v) => {
      assert.is(v.length, 1);
      assert.match(v[0].plan_yaml, /name: table/);
    },
  },
  { name: 'status --json: state fields present', program: 'muster', args: () => ['status', '--json', ...admin()], code: 0, json: (v) => assert.is(v.cluster_name, 'table') },
  {
    name: 'node assign --json, failing: a JSON error object', program: 'muster', args: () => ['node', 'assign', 'ghost', '--role', 'worker', '--json', ...admin()], code: 1,
    json: (v) => {
      assert.is(v.error.exit_code, 1);
      assert.type(v.error.message, 'string');
    },
  },

  // What is wrong and what to do, in one sentence.
  {
    name: 'unreachable coordinator: exit 3', program: 'muster', args: () => ['status', ...admin(), '--coordinator', `${net.host(1)}:${closedPort}`], code: 3,
    stderr: [/^muster: coordinator at \S+ is unreachable: nothing listens on \S+ \(connection refused\): check that the coordinator runs there/],
  },
  {
    name: 'unreachable, with --json', program: 'muster', args: () => ['status', '--json', ...admin(), '--coordinator', `${net.host(1)}:${closedPort}`], code: 3,
    json: (v) => {
      assert.is(v.error.exit_code, 3);
      assert.is(v.error.kind, 'unavailable');
    },
  },
  { name: 'a port that is not a coordinator', program: 'muster', args: () => ['status', ...admin(), '--coordinator', `${net.host(3)}:${notCoordinatorPort}`], code: 3, stderr: [/it is not a muster coordinator \(it does not speak TLS and gRPC\): check the port/] },
  {
    name: 'port in use at a first start: said, nothing written', program: 'muster', args: () => ['coordinator', 'serve', '--data-dir', join(dir, 'second'), '--listen', coordinator.address], code: 1,
    stderr: [/cannot listen on \S+: another program is using port \d+/],
    after: () => assert.not.ok(existsSync(join(dir, 'second')), 'no data dir made'),
  },
  {
    name: 'first start with an invalid plan: nothing written', program: 'muster', args: () => ['coordinator', 'serve', '--data-dir', join(dir, 'third'), '--listen', `${net.host(4)}:0`, '--plan', join(dir, 'bad.yaml')], code: 1,
    stderr: [/plan \S+bad\.yaml is invalid \(\d+ errors?; nothing was started or written\)/, /muster plan validate/],
    after: () => assert.not.ok(existsSync(join(dir, 'third')), 'no data dir made'),
  },

  // Smaller things.
  { name: 'plan init -o - writes to stdout', program: 'muster', args: () => ['plan', 'init', '--yes', '-o', '-'], code: 0, stdout: [/^# Generated by "muster plan init"/, /\ncluster:\n/], stderr: [/1 master \(a development cluster\)/] },
  {
    name: 'plan init --yes writes a plan that validates', program: 'muster', args: () => ['plan', 'init', '--yes', '-o', join(dir, 'init.yaml')], code: 0, stdout: [/wrote /],
    after: () => {
      const r = spawnSync(process.execPath, [ENTRY.muster, 'plan', 'validate', join(dir, 'init.yaml')], { encoding: 'utf8' });
      assert.is(r.status, 0, r.stdout + r.stderr);
    },
  },
  { name: 'a Kismatic plan with an empty ca_expiry takes the default', program: 'muster', args: () => ['plan', 'validate', join(dir, 'kismatic.yaml')], code: 0, stdout: [/valid Kismatic plan/] },
  {
    name: 'agent: an --address not on this machine', program: 'muster-agent',
    // Only bind() is tried (the kernel refuses it); nothing is sent. 192.0.2.0/24 is documentation-only.
    args: () => ['run', '--coordinator', `${net.host(1)}:1`, '--address', '192.0.2.1', '--state-dir', join(dir, 'agent-y'), '--config', join(dir, 'agent.yaml')], code: 2,
    stderr: [/--address 192\.0\.2\.1 is not an address of this machine/],
  },
  {
    name: 'agent: --node-name other than the one it joined as', program: 'muster-agent', args: () => ['run', '--state-dir', join(dir, 'joined'), '--node-name', 'other', '--config', join(dir, 'agent.yaml')], code: 1,
    stderr: [/this node joined as node-9 .*--node-name other would be another node/],
  },
  { name: 'completion bash', program: 'muster', args: () => ['completion', 'bash'], code: 0, stdout: [/complete -F _muster_complete muster/] },
  { name: 'completion zsh', program: 'muster', args: () => ['completion', 'zsh'], code: 0, stdout: [/bashcompinit/, /complete -F _muster_complete muster/] },
  { name: 'completion for another shell', program: 'muster', args: () => ['completion', 'fish'], code: 2, stderr: [/give bash or zsh/] },
];

test('set-up: a coordinator with a plan, a port that is not one, a closed port', async () => {
  dir = tempDir('muster-cli-table-');
  dataDir = join(dir, 'data');
  const planFile = join(dir, 'plan.yaml');
  writeFileSync(planFile, threeNodePlan('table', '', { addresses: [net.host(2), net.host(3), net.host(4)] }));
  coordinator = await testCoordinator(dataDir, { listen: `${net.host(1)}:0`, planFile });
  // Something that answers like a web server: not TLS, not gRPC.
  notCoordinator = createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  notCoordinator.listen(0, net.host(3));
  await once(notCoordinator, 'listening');
  notCoordinatorPort = (notCoordinator.address() as { port: number }).port;
  const closed = createServer().listen(0, net.host(1));
  await once(closed, 'listening');
  closedPort = (closed.address() as { port: number }).port;
  closed.close();
  writeFileSync(join(dir, 'bad.yaml'), 'cluster:\n  name: x\n  bogus: 1\n');
  writeFileSync(join(dir, 'agent.yaml'), '# empty: every setting from flags\n');
  const kismatic = readFileSync(join(ROOT, 'examples/kismatic-cluster.yaml'), 'utf8');
  assert.match(kismatic, /ca_expiry: 17520h/);
  // A supported version, so that the row is about ca_expiry alone (Kismatic's v1.10.5 is refused).
  writeFileSync(join(dir, 'kismatic.yaml'), kismatic.replace(/ca_expiry: 17520h/, 'ca_expiry: ""').replace(/version: v1\.10\.5/, 'version: v1.36.3'));
  mkdirSync(join(dir, 'joined'));
  writeFileSync(join(dir, 'joined', 'node.json'), JSON.stringify({ nodeName: 'node-9', coordinator: `${net.host(1)}:1` }));
});

test('every row: exit code, output, and no library text', async () => {
  const failures: string[] = [];
  // Three at a time: each is a Node process starting from the sources.
  const queue = [...ROWS];
  const finished = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  for (const row of ROWS) {
    let resolve!: () => void;
    finished.set(row.name, { promise: new Promise<void>((r) => (resolve = r)), resolve });
  }
  const worker = async () => {
    for (let row = queue.shift(); row; row = queue.shift()) {
      if (row.needs) {
        const dep = finished.get(row.needs);
        if (!dep) throw new Error(`row ${row.name} needs an unknown row ${row.needs}`);
        await dep.promise;
      }
      const r = await cli(row.program, row.args(), { env: row.env }).finally(() => finished.get(row!.name)!.resolve());
      const where = `${row.name}: ${row.program} ${row.args().join(' ')}\n--- exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
      try {
        assert.is(r.code, row.code, 'exit code');
        for (const re of row.stdout ?? []) assert.match(r.stdout, re);
        for (const re of row.stderr ?? []) assert.match(r.stderr, re);
        for (const re of RAW) assert.not.match(r.stdout + r.stderr, re, `library text ${re}`);
        if (row.json) row.json(JSON.parse(r.stdout));
        row.after?.();
      } catch (err) {
        failures.push(`${(err as Error).message}\n${where}`);
      }
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  assert.equal(failures, [], failures.join('\n\n'));
});

test('every command and subcommand of both programs answers --help with exit 0 and lists its flags', async () => {
  const { MUSTER } = await import('../../coordinator/cli/commands.ts');
  const { MUSTER_AGENT } = await import('../../agent/cli/commands.ts');
  const { leafCommands } = await import('../../shared/cli/command.ts');
  const { main: musterMain } = await import('../../coordinator/cli/main.ts');
  const { main: agentMain } = await import('../../agent/cli/main.ts');
  const { memoryIO } = await import('../../shared/cli/io.ts');
  for (const [program, main] of [[MUSTER, musterMain], [MUSTER_AGENT, agentMain]] as const) {
    const leaves = leafCommands(program);
    assert.ok(leaves.length > 3);
    for (const { words, spec } of leaves) {
      for (const h of ['--help', '-h']) {
        const io = memoryIO();
        assert.is(await main([...words, h], io), 0, `${program.name} ${words.join(' ')} ${h}`);
        assert.match(io.stdout, `Usage: ${program.name} ${words.join(' ')}`);
        for (const flag of Object.keys(spec.flags ?? {})) assert.match(io.stdout, `--${flag}`, `${program.name} ${words.join(' ')} --help lists --${flag}`);
      }
    }
    // Groups answer too.
    for (const c of program.commands.filter((x) => x.subcommands)) {
      const io = memoryIO();
      assert.is(await main([c.name, '--help'], io), 0);
      for (const s of c.subcommands!) assert.match(io.stdout, `\n  ${s.name} `);
    }
  }
});

test('Ctrl-C at an interactive prompt exits 130, quietly', async () => {
  requireTool('script', 'bsdutils');
  let sent = false;
  const file = join(dir, 'interrupted.yaml');
  const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(ENTRY.muster)} plan init -o ${JSON.stringify(file)}`;
  const r = await run('script', ['-q', '-e', '-c', command, '/dev/null'], {
    onStdout: (all, write) => {
      // The first question is on the terminal: press Ctrl-C there.
      if (!sent && all.includes('Cluster name')) {
        sent = true;
        write('\u0003');
      }
    },
  });
  assert.ok(sent, `the prompt appeared: ${r.stdout}`);
  assert.is(r.code, 130, r.stdout + r.stderr);
  for (const re of RAW) assert.not.match(r.stdout + r.stderr, re);
  assert.not.match(r.stdout, /Error|error/);
  assert.not.ok(existsSync(file), 'nothing written');
});

test('errors are red on a terminal, plain in a pipe and with NO_COLOR', async () => {
  requireTool('script', 'bsdutils');
  const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(ENTRY.muster)} stats`;
  const tty = await run('script', ['-q', '-e', '-c', command, '/dev/null']);
  assert.is(tty.code, 2);
  assert.match(tty.stdout, /\u001b\[31;1mmuster:\u001b\[0m \u001b\[31munknown command "stats"/);
  const noColor = await run('script', ['-q', '-e', '-c', command, '/dev/null'], { env: { NO_COLOR: '1' } });
  assert.is(noColor.code, 2);
  assert.match(noColor.stdout, /muster: unknown command "stats"/);
  assert.not.match(noColor.stdout, /\u001b\[3/);
  const pipe = await cli('muster', ['stats']);
  assert.not.match(pipe.stderr, /\u001b/);
});

test('the bundles under an older Node: one sentence, no ERR_UNKNOWN_BUILTIN_MODULE', async () => {
  // An older Node on PATH (the machine's own; npm scripts put Node 24 first).
  const older = (process.env.PATH ?? '').split(':').map((d) => join(d, 'node')).find((p) => {
    if (!existsSync(p)) return false;
    const v = spawnSync(p, ['--version'], { encoding: 'utf8' }).stdout.trim();
    return /^v\d+/.test(v) && Number(v.slice(1).split('.')[0]) < 24;
  });
  if (!older) {
    console.log('  (no Node older than 24 on PATH: the bundles are checked only for their version check)');
  }
  for (const [program, bundle] of [['muster', 'dist/muster.cjs'], ['muster-agent', 'dist/muster-agent.cjs']] as const) {
    const file = join(ROOT, bundle);
    assert.ok(existsSync(file), `${bundle} is built (npm ci builds it)`);
    assert.match(readFileSync(file, 'utf8').split('\n')[1]!, /^"use strict"; if \(Number\(process\.versions\.node/, 'the check is the first statement');
    if (!older) continue;
    const r = await run(older, [file, '--help']);
    assert.is(r.code, 1);
    assert.match(r.stderr, new RegExp(`^${program}: this is Node\\.js \\d+\\.\\d+\\.\\d+ \\(.+\\); ${program} needs Node\\.js 24 or newer: run it with Node 24`));
    assert.is(r.stderr.trim().split('\n').length, 1, 'one line');
    assert.not.match(r.stderr, /ERR_UNKNOWN_BUILTIN_MODULE|node:sqlite/);
  }
});

test('bash completion completes commands, subcommands, flags and flag values', async () => {
  const script = (await cli('muster', ['completion', 'bash'])).stdout;
  const complete = (words: string[]) => {
    const r = spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _muster_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).sort();
  };
  assert.equal(complete(['muster', 'p']), ['plan', 'preflight']);
  assert.equal(complete(['muster', 'plan', 'a']), ['apply']);
  assert.equal(complete(['muster', 'token', 'create', '--t']), ['--ttl']);
  assert.equal(complete(['muster', 'certs', 'rotate-ca', '--kind', 'e']), ['etcd']);
  assert.equal(complete(['muster', 'completion', '']), ['bash', 'zsh']);
  assert.ok(complete(['muster', 'status', '--']).includes('--json'));
});

test('the demo keeps a plan the user edited', async () => {
  const demoDir = join(dir, 'demo');
  mkdirSync(demoDir);
  // Edited into an invalid plan, so the demo stops right after it kept the file.
  writeFileSync(join(demoDir, 'muster-cluster.yaml'), '# my edit\ncluster:\n  name: mine\n');
  const r = await cli('muster', ['demo', '--dir', demoDir, '--keep-running=false']);
  assert.match(r.stderr, /using your edited plan/);
  assert.is(readFileSync(join(demoDir, 'muster-cluster.yaml'), 'utf8'), '# my edit\ncluster:\n  name: mine\n');
  assert.is(r.code, 1, r.stderr);
});

test('an agent restarted without --coordinator goes back to the one it joined', async () => {
  const { token } = await coordinator.state.tokens.create({ description: 'restart' });
  const stateDir = join(dir, 'restart-state');
  const base = ['run', '--state-dir', stateDir, '--root', join(dir, 'restart-root'), '--node-name', 'node-2', '--address', net.host(3), '--probe-port', '0', '--config', join(dir, 'agent.yaml')];
  const first = spawn(process.execPath, [ENTRY['muster-agent'], ...base, '--coordinator', coordinator.address, '--token', token, '--ca-hash', coordinator.identity.caPin], { env: cleanEnv(), stdio: 'ignore' });
  try {
    await waitFor('the first start joined', () => existsSync(join(stateDir, 'node.json')), 30_000);
  } finally {
    first.kill('SIGTERM');
    await once(first, 'close');
  }
  let log = '';
  const again = spawn(process.execPath, [ENTRY['muster-agent'], ...base], { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  again.stderr.on('data', (d) => (log += d));
  try {
    await waitFor('the restarted agent used its identity', () => /using identity of node node-2/.test(log), 30_000);
    assert.not.match(log, /no coordinator/);
  } finally {
    again.kill('SIGTERM');
    await once(again, 'close');
  }
});

test.after(async () => {
  notCoordinator?.close();
  await coordinator?.close();
});

test.run();
