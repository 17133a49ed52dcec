// A coordinator that is stopping refuses new mutations with UNAVAILABLE instead of running them
// into a closed store: a failed commit is fatal (onFatal stops the process), so a late call --
// a Report still in flight when the server closed, a test restarting a coordinator -- would
// otherwise end the process rather than be told to retry.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { ClusterState } from '../../coordinator/state/cluster-state.ts';
import { SqliteStore } from '../../coordinator/store/sqlite.ts';
import { MusterError } from '../../shared/errors/index.ts';
import { silentLogger } from '../../shared/log/logger.ts';
import { tempDir } from '../helpers/cluster.ts';

test('after close, a mutation is refused with UNAVAILABLE and the store failure path is never taken', async () => {
  const store = new SqliteStore(join(tempDir('muster-writer-close-'), 'state.db'));
  const fatal: unknown[] = [];
  const state = await ClusterState.open({ store, logger: silentLogger(), onFatal: (err) => fatal.push(err), recomputeDelayMs: 0 });
  await state.tokens.create({}); // a mutation while open commits
  await state.close();
  await store.close();
  let err: unknown;
  try {
    await state.tokens.create({});
  } catch (e) {
    err = e;
  }
  assert.instance(err, MusterError);
  assert.is((err as MusterError).kind, 'unavailable');
  assert.match((err as MusterError).message, /stopping/);
  assert.equal(fatal, [], 'a late mutation is not a store failure');
});

test.run();
