// `npm run demo:control-plane`: the three-node control plane of test/k8s/control-plane.test.ts
// on this machine (same harness, test/helpers/control-plane/) -- a coordinator, three nodes in
// network namespaces, etcd on all three, API servers on two behind a load balancer -- built from
// what muster wrote, left running until Ctrl-C, with kubectl commands that work against it.
// Needs root (network namespaces) and the built programs (bash test/install-k8s.sh).
import { existsSync } from 'node:fs';
import { bringUpControlPlane } from '../helpers/control-plane/cluster.ts';
import { k8sProgram, etcdProgram } from '../helpers/k8s-programs.ts';

function fail(lines: string[]): never {
  console.error(lines.join('\n'));
  process.exit(1);
}

if (process.getuid?.() !== 0) fail(['demo:control-plane needs root: it makes network namespaces (ip netns add) for the coordinator, the load balancer and three nodes.', 'Run it as root, e.g. sudo npm run demo:control-plane']);
try {
  for (const p of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'] as const) if (!existsSync(k8sProgram(p))) throw new Error(`${k8sProgram(p)} is missing`);
  if (!existsSync(etcdProgram('etcd'))) throw new Error(`${etcdProgram('etcd')} is missing`);
} catch (err) {
  fail([`The Kubernetes programs are not built: ${(err as Error).message}`, 'Build them from Go modules (Go 1.26 needed; ~7-13 minutes the first time, seconds after):', '  bash test/install-k8s.sh']);
}

console.log('bringing up a control plane from what muster writes (about 20-60 s)...');
const cp = await bringUpControlPlane({ progress: (l) => console.log(`  ${l}`) });
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\ntearing down (namespaces, processes, files)...');
  await cp.teardown();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const ns = cp.coordinatorHost.ns;
const kubectl = `ip netns exec ${ns} ${k8sProgram('kubectl')} --kubeconfig ${cp.adminKubeconfig}`;
const t = cp.times;
console.log(`
ready in ${(t.totalMs / 1000).toFixed(1)} s (join ${t.joinMs} ms, certificates ${t.certificatesMs} ms, render/apply ${t.renderApplyMs} ms, components ${t.componentsMs} ms, all from coordinator start)

API server (through the load balancer): ${cp.apiServer}
node roots (what each agent wrote):       ${cp.nodes.map((n) => `${n.name}=${n.root}`).join('  ')}

Try, from another terminal (as root; the cluster's addresses exist only inside its namespaces):
  ${kubectl} auth whoami
  ${kubectl} get --raw '/readyz?verbose'
  ${kubectl} -n kube-system get leases
  ${kubectl} get endpointslices -A
  ip netns exec ${ns} ${process.execPath} dist/muster.cjs status --data-dir ${cp.dataDir}

Ctrl-C tears it all down.`);
await new Promise(() => {});
