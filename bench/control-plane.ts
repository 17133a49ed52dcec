// Time from coordinator start to every API server ready, for the three-node control plane of
// test/k8s/control-plane.test.ts (the same harness: test/helpers/control-plane/), split into
// join, certificates, render/apply and component start-up. Needs root (network namespaces) and the
// built Kubernetes programs (bash test/install-k8s.sh).
//   node bench/control-plane.ts [--runs N]
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { bringUpControlPlane } from '../test/helpers/control-plane/cluster.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 10) throw new Error(`--runs ${values.runs}: expected 1..10`);

const rows: string[] = [];
for (let i = 1; i <= runs; i++) {
  const load = loadavg()[0]!.toFixed(2);
  const cp = await bringUpControlPlane();
  try {
    const t = cp.times;
    rows.push(`| ${i} | ${t.joinMs} | ${t.certificatesMs - t.joinMs} | ${t.renderApplyMs - t.certificatesMs} | ${t.componentsMs - t.renderApplyMs} | ${t.totalMs} | ${load} |`);
  } finally {
    await cp.teardown();
  }
}
console.log('| run | join ms | certificates ms | render/apply ms | component start-up ms | total ms | load before |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
console.log('component start-up includes etcd\'s startup probe initialDelaySeconds (10 s), which the kubelet waits too.');
