// renderKubeconfig: pure, parsed back and compared as a structure (kubectl's shape: embedded
// data, one cluster, user and context, the context current).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { renderKubeconfig } from '../../shared/render/kubeconfig.ts';
import { apiServerUrl } from '../../agent/pki/files.ts';

const CA = '-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n';
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('renders one cluster, one user, one current context, everything embedded', () => {
  const text = renderKubeconfig({ clusterName: 'prod', server: 'https://10.0.0.5:6443', caPem: CA, userName: 'system:node', certPem: CERT, keyPem: KEY });
  assert.equal(parse(text), {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'prod', cluster: { server: 'https://10.0.0.5:6443', 'certificate-authority-data': b64(CA) } }],
    users: [{ name: 'system:node', user: { 'client-certificate-data': b64(CERT), 'client-key-data': b64(KEY) } }],
    contexts: [{ name: 'system:node@prod', context: { cluster: 'prod', user: 'system:node' } }],
    'current-context': 'system:node@prod',
    preferences: {},
  });
  // Long base64 stays on one line (no folding), as kubectl writes it.
  const long = renderKubeconfig({ clusterName: 'c', server: 'https://h:6443', caPem: CA.repeat(40), userName: 'u', certPem: CERT, keyPem: KEY });
  assert.ok(long.split('\n').some((l) => l.includes(`certificate-authority-data: ${b64(CA.repeat(40))}`)));
});

test('same input, same bytes', () => {
  const i = { clusterName: 'c', server: 'https://h:6443', caPem: CA, userName: 'u', certPem: CERT, keyPem: KEY };
  assert.is(renderKubeconfig(i), renderKubeconfig({ ...i }));
});

test('the server a kubeconfig names: the assignment endpoint, or the local API server; none while no endpoint is known', () => {
  assert.is(apiServerUrl('endpoint', 'lb.example:6443'), 'https://lb.example:6443');
  assert.is(apiServerUrl('endpoint', '[fd00::1]:6443'), 'https://[fd00::1]:6443');
  assert.is(apiServerUrl('local', ''), 'https://127.0.0.1:6443');
  assert.is(apiServerUrl('endpoint', ''), null);
});

test.run();
