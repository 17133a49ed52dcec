// Why the node could not get or keep its cluster certificates. The message names the kinds
// involved and what went wrong, since it ends up verbatim in the apply report `muster status`
// shows; the coordinator's refusal (which names the kind and field it refused) is kept whole.
import { MusterError } from '../../shared/errors/index.ts';

export class ClusterPkiError extends MusterError {
  readonly kinds: readonly string[];
  constructor(kinds: readonly string[], message: string, options?: { cause?: unknown }) {
    super('failed-precondition', 'cluster-pki', message, options);
    this.kinds = kinds;
  }
}
