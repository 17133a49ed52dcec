// The apply engine's entry points (see transaction.ts, owned-files.ts, actions.ts, engine.ts).
export { applyFiles, applyChangeSet, ApplyError, type AppliedFile, type ChangeSetResult } from './transaction.ts';
