/**
 * Until the cluster resource runner is wired into the daemon, a node must not start with
 * singletons or groups configured: it would silently run none of them (or, worse, an operator
 * could believe they are protected). `vmac check` accepts them (the model, the policy engine and
 * the differential test use them); `vmac run` refuses with this error, naming the resources.
 */
import { VmacError } from '../util/errors.js';
import type { CrmModel } from './model.js';

export function refuseUnrunPlacement(model: CrmModel | undefined, file: string): void {
  const placed = (model?.resources ?? []).filter((r) => r.kind !== 'clone');
  if (placed.length === 0) return;
  const names = placed.map((r) => `${r.name} (${r.kind})`).join(', ');
  throw new VmacError('VMAC_RESOURCE_INVALID', `${file}: resources ${names}: cluster-wide placement is validated and planned (vmac check, docs/crm.md) but this build does not run it yet; keep these resources out of the file, or run them with Pacemaker (docs/pacemaker.md)`, { resources: placed.map((r) => r.name) });
}
