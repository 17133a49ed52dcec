// Agent.ReportApply, checked before it is stored. The error text is free: it may hold anything
// printable, and control characters too (a tool's output can), because logs and the status
// table escape it where it is shown; only its length is capped. Paths and roles are checked
// strictly: roles decide what preflight stops holding back.
import type { ApplyResultOut } from '../../../shared/wire/types.ts';
import { FieldChecker, quote } from './fields.ts';
import { ALLOWED_ROLES, INPUT_LIMITS as L } from './limits.ts';

/** Throws InvalidArgumentError naming `node` and the first bad field; returns when all is well. */
export function validateApplyResult(req: ApplyResultOut, node: string): void {
  const f = new FieldChecker(`apply result from ${node}`);
  f.int('revision', req.revision, 0, Number.MAX_SAFE_INTEGER, 'an assignment revision (0 or more)');
  f.text('error', req.error, { max: L.applyErrorChars, control: true });
  f.count('files', req.files.length, L.files);
  const path = (p: string, v: string) => {
    f.text(p, v, { max: L.pathChars });
    if (!v.startsWith('/')) f.fail(p, `${quote(v)} is not an absolute path; files are named as on the node, e.g. /etc/kubernetes/kubelet.conf`);
  };
  req.files.forEach((file, i) => path(`files[${i}].path`, file.path));
  // Drift and removals name files of the same set: the same bound, the same form.
  f.count('drift', req.drift.length, L.files);
  req.drift.forEach((d, i) => path(`drift[${i}]`, d));
  f.count('removed', req.removed.length, L.files);
  req.removed.forEach((d, i) => path(`removed[${i}]`, d));
  req.roles.forEach((r, i) => f.oneOf(`roles[${i}]`, r, ALLOWED_ROLES));
}
