// agent/loop/ready-waits.ts: what an apply waits for before it is reported, table-style. The
// rows that matter most are the owed ones: a wait that failed must be waited again by the next
// pass, which changes no file, or that pass reports ok unseen and the rollout restarts the next
// etcd member while this one may be down.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readyWaits, type ReadyWaitsInput } from '../../agent/loop/ready-waits.ts';
import { API_SERVER_MANIFEST } from '../../agent/kube/api-server-ready.ts';
import { ETCD_MANIFEST } from '../../shared/render/static-pods/etcd.ts';

const files = (...changed: string[]) => [ETCD_MANIFEST, API_SERVER_MANIFEST, '/etc/kubernetes/kubelet.conf'].map((path) => ({ path, changed: changed.includes(path) }));
const stacked = { roles: ['etcd', 'master'], kubernetes_version: 'v1.35.4' };
const etcdOnly = { roles: ['etcd'], kubernetes_version: 'v1.35.4' };
const etcdWorker = { roles: ['etcd', 'worker'], kubernetes_version: 'v1.35.4' };
const base = (o: Partial<ReadyWaitsInput>): ReadyWaitsInput => ({ roles: ['etcd', 'master'], kubernetesVersion: 'v1.36.3', files: files(), before: stacked, etcdStartedBefore: 1700000000.5, owed: null, ...o });

const rows: [string, Partial<ReadyWaitsInput>, ReturnType<typeof readyWaits>][] = [
  ['a new version on a stacked master: its member restarted, then its API server at the version', { files: files(ETCD_MANIFEST, API_SERVER_MANIFEST) }, { etcd: { before: 1700000000.5 }, apiServer: { restart: false }, owed: { etcd: true, apiServer: true } }],
  ['the same version (new settings): the API server only once the old one went', { kubernetesVersion: 'v1.35.4', files: files(API_SERVER_MANIFEST) }, { etcd: null, apiServer: { restart: true }, owed: { etcd: false, apiServer: true } }],
  ['an etcd member with no member running before: any ready member', { roles: ['etcd', 'worker'], before: etcdWorker, etcdStartedBefore: null, files: files(ETCD_MANIFEST) }, { etcd: { before: null }, apiServer: null, owed: { etcd: true, apiServer: false } }],
  ['an etcd member and nothing else: its standalone kubelet restarts etcd, which is waited for', { roles: ['etcd'], before: etcdOnly, files: files(ETCD_MANIFEST) }, { etcd: { before: 1700000000.5 }, apiServer: null, owed: { etcd: true, apiServer: false } }],
  ['an etcd member and nothing else, owed: waited again', { roles: ['etcd'], before: etcdOnly, owed: { etcd: true, apiServer: false } }, { etcd: { before: null }, apiServer: null, owed: { etcd: true, apiServer: false } }],
  ['a first apply of an etcd member (etcd forming): no wait', { roles: ['etcd', 'worker'], before: undefined, etcdStartedBefore: undefined, files: files(ETCD_MANIFEST) }, { etcd: null, apiServer: null, owed: null }],
  ['a first apply of a master: its API server at the version', { roles: ['master'], before: undefined, etcdStartedBefore: undefined, files: files(API_SERVER_MANIFEST) }, { etcd: null, apiServer: { restart: false }, owed: { etcd: false, apiServer: true } }],
  ['nothing the waits watch changed: no wait', { files: files('/etc/kubernetes/kubelet.conf') }, { etcd: null, apiServer: null, owed: null }],
  ['a worker: never a wait', { roles: ['worker'], before: { roles: ['worker'], kubernetes_version: 'v1.35.4' }, files: files(ETCD_MANIFEST, API_SERVER_MANIFEST) }, { etcd: null, apiServer: null, owed: null }],
  ['owed: the retry changes no file and still waits, for readiness only', { owed: { etcd: true, apiServer: true } }, { etcd: { before: null }, apiServer: { restart: false }, owed: { etcd: true, apiServer: true } }],
  ['owed etcd only: the API server wait had passed', { owed: { etcd: true, apiServer: false } }, { etcd: { before: null }, apiServer: null, owed: { etcd: true, apiServer: false } }],
  ['owed, and the node no longer holds etcd: nothing of etcd to wait for', { roles: ['master'], owed: { etcd: true, apiServer: false } }, { etcd: null, apiServer: null, owed: null }],
];

for (const [name, input, want] of rows) {
  test(name, () => {
    assert.equal(readyWaits(base(input)), want);
  });
}

test.run();
