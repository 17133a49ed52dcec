// What makes the drift pass cheap, and that it stays exact: a pass that changes nothing writes
// nothing (not even the owned-files manifest), the rendered files are kept while the input is the
// same and rendered again when any of it changes (in place too), and a hand edit of the same
// size with its mtime put back is still found by the next pass.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, captureLogger } from '../helpers/cluster.ts';
import { NodeApplier } from '../../agent/apply/engine.ts';
import { NoServices } from '../../agent/apply/services.ts';
import { RenderCache } from '../../agent/loop/render-cache.ts';
import { renderNode } from '../../shared/render/index.ts';
import { AGENT_STATE } from '../../shared/constants.ts';
import { assignment } from '../render/fixture-nodes.ts';

function setup() {
  const dir = tempDir('muster-steady-');
  const root = join(dir, 'root');
  mkdirSync(root);
  const stateDir = join(dir, 'state');
  const applier = new NodeApplier({ root, stateDir, log: captureLogger(), services: new NoServices(null, 'test') });
  return { root, applier, manifest: join(stateDir, AGENT_STATE.ownedFiles), at: (p: string) => join(root, p) };
}

const stamp = (path: string) => {
  const s = statSync(path, { bigint: true });
  return `${s.ino}/${s.mtimeNs}/${s.ctimeNs}`;
};

test('a pass that changes nothing writes nothing, not even the manifest; one that changes a file updates it', async () => {
  const { applier, manifest } = setup();
  const files = renderNode({ assignment: assignment() });
  await applier.apply(files);
  const before = stamp(manifest);
  const text = readFileSync(manifest, 'utf8');
  const again = await applier.apply(files);
  assert.equal(again.changed, []);
  assert.is(stamp(manifest), before, 'the manifest was not rewritten');
  const next = files.map((f) => (f.path.endsWith('kubelet/config.yaml') ? { ...f, content: `${f.content}# v2\n` } : f));
  const r = await applier.apply(next);
  assert.is(r.changed.length, 1);
  assert.is.not(readFileSync(manifest, 'utf8'), text, 'the new hash is recorded');
});

test('a hand edit of the same size with the mtime put back is drift, found by the next pass', async () => {
  const { applier, at } = setup();
  const files = renderNode({ assignment: assignment() });
  await applier.apply(files);
  await applier.apply(files);
  const f = files.find((x) => x.path.endsWith('kubelet/config.yaml'))!;
  const st = statSync(at(f.path));
  const edited = f.content.replace(/[a-z](?=[^a-z]*$)/, (c) => (c === 'a' ? 'b' : 'a'));
  assert.is(edited.length, f.content.length);
  assert.is.not(edited, f.content);
  writeFileSync(at(f.path), edited);
  // Seconds as numbers keep sub-millisecond precision (Date objects round to the millisecond).
  utimesSync(at(f.path), st.atimeMs / 1000, st.mtimeMs / 1000);
  assert.ok(Math.abs(statSync(at(f.path)).mtimeMs - st.mtimeMs) < 0.01, 'mtime put back');
  const r = await applier.apply(files);
  assert.equal(r.drift, [f.path]);
  assert.is(readFileSync(at(f.path), 'utf8'), f.content);
});

test('rendered files are kept while the input is the same, rendered again when the assignment (even in place) or a certificate hash changes', () => {
  const cache = new RenderCache();
  const a = assignment();
  const first = cache.files({ assignment: a, certificateHashes: { apiserver: 'h1' } });
  assert.equal(first, renderNode({ assignment: a, certificateHashes: { apiserver: 'h1' } }), 'the same files as rendering');
  assert.is(cache.files({ assignment: a, certificateHashes: { apiserver: 'h1' } }), first, 'kept');
  assert.is(cache.files({ assignment: structuredClone(a), certificateHashes: { apiserver: 'h1' } }), first, 'an equal assignment is the same input');
  const renewed = cache.files({ assignment: a, certificateHashes: { apiserver: 'h2' } });
  assert.is.not(renewed, first);
  assert.equal(renewed, renderNode({ assignment: a, certificateHashes: { apiserver: 'h2' } }));
  a.cluster_name = 'renamed';
  const inPlace = cache.files({ assignment: a, certificateHashes: { apiserver: 'h2' } });
  assert.is.not(inPlace, renewed, 'changed in place: rendered again');
  assert.equal(inPlace, renderNode({ assignment: a, certificateHashes: { apiserver: 'h2' } }));
  assert.ok(Object.isFrozen(inPlace) && inPlace.every((f) => Object.isFrozen(f)), 'shared across passes, so frozen');
});

test.run();
