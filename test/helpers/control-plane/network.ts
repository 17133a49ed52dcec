// One bridge and veth pairs, all inside network namespaces the test creates: a "switch" namespace
// holds the bridge, every other namespace (coordinator, load balancer, each node) gets one veth
// end on it with an address of a private /24. The root namespace holds no end of any of it and
// never connects to these addresses: whatever the test does there runs through `ip netns exec`.
//
// Names are unique per test file (from MUSTER_TEST_NET, else the pid), and teardown removes every
// namespace, which takes the bridge and the veths with them. A teardown also runs on process exit,
// so a test that dies leaves nothing behind.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';

export interface NetnsHost {
  /** The namespace's name (`ip netns exec NAME ...`). */
  readonly ns: string;
  /** Its address on the bridge. */
  readonly ip: string;
}

export interface TestNetwork {
  /** 10.A.B: the private /24 of this network. */
  readonly prefix: string;
  readonly hosts: ReadonlyMap<string, NetnsHost>;
  host(name: string): NetnsHost;
  /** Removes every namespace made (idempotent). */
  teardown(): void;
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A short tag for this file's names (interface and namespace names stay well under 15 bytes). */
export function networkTag(): string {
  const seed = process.env.MUSTER_TEST_NET || `pid-${process.pid}`;
  return createHash('sha256').update(seed).digest('hex').slice(0, 6);
}

/**
 * The private /24 inside the namespaces: 10.A.B from MUSTER_TEST_NET's 127.A.B, so two files
 * the runner runs side by side never share one (they are in separate namespaces anyway).
 */
export function privatePrefix(): string {
  const m = /^127\.(\d{1,3})\.(\d{1,3})$/.exec(process.env.MUSTER_TEST_NET ?? '');
  if (m) return `10.${m[1]}.${m[2]}`;
  const h = createHash('sha256').update(`pid-${process.pid}`).digest();
  return `10.${200 + (h[0]! % 55)}.${h[1]!}`;
}

/**
 * Makes the namespaces: `names` maps a host name to its last address octet (2..254).
 * Each namespace also has its loopback up (127.0.0.0/8 of its own, as a machine has).
 */
export function createTestNetwork(names: Readonly<Record<string, number>>): TestNetwork {
  const tag = networkTag();
  const prefix = privatePrefix();
  const sw = `mcp-${tag}-sw`;
  const made: string[] = [];
  const hosts = new Map<string, NetnsHost>();
  let torn = false;
  const teardown = () => {
    if (torn) return;
    torn = true;
    process.off('exit', teardown);
    for (const ns of made.reverse()) {
      try { ip(['netns', 'del', ns]); } catch { /* already gone */ }
    }
  };
  process.on('exit', teardown);
  try {
    // A namespace of this name left by a killed run of the same file: remove it first.
    for (const ns of [sw, ...Object.keys(names).map((n) => `mcp-${tag}-${n}`)]) {
      try { ip(['netns', 'del', ns]); } catch { /* none */ }
    }
    ip(['netns', 'add', sw]);
    made.push(sw);
    ip(['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', sw, 'link', 'set', 'br0', 'up']);
    ip(['-n', sw, 'link', 'set', 'lo', 'up']);
    let i = 0;
    for (const [name, octet] of Object.entries(names)) {
      const ns = `mcp-${tag}-${name}`;
      ip(['netns', 'add', ns]);
      made.push(ns);
      const port = `p${i++}`;
      // Both ends are made inside namespaces: the switch port in sw, eth0 in the host's.
      ip(['-n', sw, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      ip(['-n', sw, 'link', 'set', port, 'master', 'br0', 'up']);
      const addr = `${prefix}.${octet}`;
      ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
      ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      // The default route: kube-proxy and the API server look for one to pick their address.
      ip(['-n', ns, 'route', 'add', 'default', 'dev', 'eth0']);
      hosts.set(name, { ns, ip: addr });
    }
  } catch (err) {
    teardown();
    throw new Error(`cannot create the test network (needs root and iproute2): ${(err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message}`);
  }
  return {
    prefix,
    hosts,
    host(name) {
      const h = hosts.get(name);
      if (!h) throw new Error(`no host ${name} in the test network (${[...hosts.keys()].join(', ')})`);
      return h;
    },
    teardown,
  };
}
