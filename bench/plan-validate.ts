// How long `muster plan validate` takes on large plans: N named workers (every check that walks
// nodes is linear in them), plus the same plan as pools. Prints figures; asserts nothing.
//
//   node bench/plan-validate.ts [N ...]      default: 100 1000 5000
import { parsePlan } from '../shared/plan/index.ts';

function planText(workers: number): string {
  const lines = [
    'cluster:', '  name: bench', '  networking:', '    pod_cidr_block: 10.0.0.0/8', '    service_cidr_block: 172.17.0.0/16',
    'etcd:', '  expected_count: 3', '  nodes:',
  ];
  const node = (host: string, i: number) => `    - { host: ${host}, ip: 192.168.${i >> 8}.${i & 255}, labels: { example.com/rack: r${i % 40} }, taints: [{ key: dedicated, value: x, effect: NoSchedule }] }`;
  for (let i = 1; i <= 3; i++) lines.push(node(`cp${i}`, i));
  lines.push('master:', '  expected_count: 3', '  load_balancer: 192.168.0.250:6443', '  nodes:');
  for (let i = 1; i <= 3; i++) lines.push(node(`cp${i}`, i));
  lines.push('worker:', `  expected_count: ${workers}`, '  nodes:');
  for (let i = 0; i < workers; i++) lines.push(node(`w${i}`, 10 + i));
  return `${lines.join('\n')}\n`;
}

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
for (const n of sizes.length ? sizes : [100, 1000, 5000]) {
  const text = planText(n);
  parsePlan(text, 'warmup.yaml');
  const runs = 5;
  const times: number[] = [];
  let problems = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    problems = parsePlan(text, 'bench.yaml').problems.length;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const kib = Math.round(Buffer.byteLength(text) / 1024);
  console.log(`${String(n).padStart(5)} workers (${kib} KiB): median ${times[Math.floor(runs / 2)]?.toFixed(1)} ms, min ${times[0]?.toFixed(1)} ms over ${runs} runs; ${problems} problems`);
}
