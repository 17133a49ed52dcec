// `npm run demo:control-plane` (test/demo/control-plane.ts): it brings up the control plane, the
// kubectl commands it prints work as printed, and Ctrl-C tears everything down (its namespaces are
// gone, it exits 0).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '..', '..');

test('the control-plane demo comes up, its printed kubectl commands work, and Ctrl-C tears it down', async () => {
  const child = spawn(process.execPath, [join(REPO, 'test/demo/control-plane.ts')], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await Promise.race([
      new Promise<void>((resolve) => {
        const check = () => (out.includes('Ctrl-C tears it all down') ? resolve() : undefined);
        child.stdout.on('data', check);
      }),
      exited.then((code) => {
        throw new Error(`the demo exited (${code}) before it was ready:\n${out.slice(-3000)}`);
      }),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`the demo was not ready in 6 min:\n${out.slice(-3000)}`)), 360_000).unref()),
    ]);
    const whoami = out.split('\n').map((l) => l.trim()).find((l) => l.endsWith(' auth whoami'));
    assert.ok(whoami, `no "auth whoami" command printed:\n${out}`);
    const r = await run('sh', ['-c', whoami!], { timeout: 60_000 });
    assert.match(r.stdout, 'kubernetes-admin');
    const leases = out.split('\n').map((l) => l.trim()).find((l) => l.endsWith('-n kube-system get leases'))!;
    // The admin's rights come from the binding the masters' agents make; it may take a moment.
    let leaseOut = '';
    for (let i = 0; i < 60 && !leaseOut.includes('kube-scheduler'); i++) {
      leaseOut = await run('sh', ['-c', leases], { timeout: 60_000 }).then((x) => x.stdout, (e: Error) => e.message);
      if (!leaseOut.includes('kube-scheduler')) await new Promise((res) => setTimeout(res, 1000));
    }
    assert.match(leaseOut, 'kube-scheduler', 'the admin lists the kube-system leases');
    const ns = /ip netns exec (\S+) /.exec(whoami!)![1]!;
    child.kill('SIGINT');
    assert.is(await exited, 0, out.slice(-2000));
    const left = (await run('ip', ['netns', 'list'])).stdout;
    assert.not.match(left, ns, `namespace ${ns} is still there after Ctrl-C`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test.run();
