import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from 'node:net';
import { startProbeListener } from '../../agent/probe/index.ts';
import { FailedPreconditionError } from '../../shared/errors/index.ts';
import { addressBlock } from '../helpers/addresses.ts';

const H = addressBlock(import.meta.url).host(2);

/** Connects, sends `payload`, collects everything until the server closes. */
function exchange(host: string, port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    let got = '';
    const t = setTimeout(() => { s.destroy(); reject(new Error('no close within 2 s')); }, 2000);
    s.once('connect', () => s.write(payload));
    s.on('data', (d) => (got += d));
    s.once('error', reject);
    s.once('close', () => { clearTimeout(t); resolve(got); });
  });
}

test('the probe listener echoes the first byte and closes', async () => {
  const l = await startProbeListener({ host: H, port: 0 });
  try {
    assert.ok(l.port > 0);
    assert.is(await exchange(H, l.port, 'xyz'), 'x');
    assert.is(await exchange(H, l.port, 'm'), 'm');
  } finally {
    await l.close();
  }
});

test('close() stops listening and drops idle connections', async () => {
  const l = await startProbeListener({ host: H, port: 0 });
  const idle = connect({ host: H, port: l.port });
  await new Promise((r) => idle.once('connect', r));
  const closed = new Promise((r) => idle.once('close', r));
  await l.close();
  await closed;
  const err = await exchange(H, l.port, 'x').then(() => null, (e) => e);
  assert.is(err?.code, 'ECONNREFUSED');
});

test('a busy probe port is a typed error naming host:port and what to do', async () => {
  const a = await startProbeListener({ host: H, port: 0 });
  try {
    const err = await startProbeListener({ host: H, port: a.port }).then(() => null, (e) => e);
    assert.instance(err, FailedPreconditionError);
    assert.is(err.reason, 'probe-port-unavailable');
    assert.is(err.message, `cannot listen on the probe port ${H}:${a.port}: EADDRINUSE: address already in use; stop whatever holds it, or configure another probe port for muster-agent (its peers must use the same one)`);
  } finally {
    await a.close();
  }
});

test.run();
