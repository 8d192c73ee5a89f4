/**
 * A scenario (scenario.ts) as a Pacemaker CIB for `crm_simulate -x cib.xml -s`: primitives are
 * ocf:pacemaker:Dummy, groups are groups, a current placement is a successful start in the node's
 * resource history, failure counts are fail-count attributes, standby is the node attribute,
 * offline nodes are cleanly down, fencing is off and the partition has quorum.
 */
import type { Scenario } from './scenario.js';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

function meta(id: string, pairs: Record<string, string | number>): string {
  const nv = Object.entries(pairs).map(([k, v]) => `<nvpair id="${id}-${k}" name="${k}" value="${esc(String(v))}"/>`).join('');
  return nv === '' ? '' : `<meta_attributes id="${id}-meta">${nv}</meta_attributes>`;
}

const KEY = '00000000-0000-0000-0000-000000000000';

export function renderCib(s: Scenario): string {
  const nodeIds = new Map(s.nodes.map((n, i) => [n.name, i + 1]));
  const prim = (name: string, m: Record<string, string | number>): string => `<primitive id="${name}" class="ocf" provider="pacemaker" type="Dummy">${meta(name, m)}</primitive>`;
  const resources = s.units.map((u) => {
    const m: Record<string, string | number> = {};
    if (u.stickiness > 0) m['resource-stickiness'] = u.stickiness >= 1_000_000 ? 'INFINITY' : u.stickiness;
    if (u.migrationThreshold > 0) m['migration-threshold'] = u.migrationThreshold;
    return u.kind === 'group' ? `<group id="${u.name}">${meta(u.name, m)}${u.members.map((x) => prim(x, {})).join('')}</group>` : prim(u.name, m);
  }).join('\n');
  const cons: string[] = [];
  for (const u of s.units) {
    for (const [node, sc] of Object.entries(u.location)) cons.push(`<rsc_location id="loc-${u.name}-${node}" rsc="${u.name}" node="${node}" score="${sc}"/>`);
    u.colocate.forEach((c, i) => cons.push(`<rsc_colocation id="col-${u.name}-${i}" rsc="${u.name}" with-rsc="${c.with}" score="${c.score}"/>`));
    u.after.forEach((a, i) => cons.push(`<rsc_order id="ord-${u.name}-${i}" first="${a}" then="${u.name}" kind="Mandatory"/>`));
  }
  let call = 1;
  const states = s.nodes.map((n) => {
    const id = nodeIds.get(n.name) ?? 0;
    if (!n.online) return `<node_state id="${id}" uname="${n.name}" in_ccm="false" crmd="offline" join="down" expected="down"/>`;
    const here = Object.entries(s.active).filter(([, at]) => at === n.name).map(([r]) => r);
    const lrm = here.map((r) => {
      call += 1;
      return `<lrm_resource id="${r}" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="${r}_last_0" operation_key="${r}_start_0" operation="start" crm-debug-origin="vmac" crm_feature_set="3.16.2" transition-key="${call}:1:0:${KEY}" transition-magic="0:0;${call}:1:0:${KEY}" call-id="${call}" rc-code="0" op-status="0" interval="0" exec-time="0" queue-time="0"/></lrm_resource>`;
    }).join('');
    const fails = Object.entries(s.failures).flatMap(([r, byNode]) => (byNode[n.name] !== undefined ? [`<nvpair id="fc-${r}-${id}" name="fail-count-${r}#monitor_10000" value="${byNode[n.name] ?? 0}"/>`] : [])).join('');
    const attrs = fails === '' ? '' : `<transient_attributes id="${id}"><instance_attributes id="status-${id}">${fails}</instance_attributes></transient_attributes>`;
    return `<node_state id="${id}" uname="${n.name}" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="${id}"><lrm_resources>${lrm}</lrm_resources></lrm>${attrs}</node_state>`;
  }).join('\n');
  const nodes = s.nodes.map((n) => `<node id="${nodeIds.get(n.name) ?? 0}" uname="${n.name}">${n.standby ? `<instance_attributes id="na-${n.name}"><nvpair id="na-${n.name}-standby" name="standby" value="on"/></instance_attributes>` : ''}</node>`).join('\n');
  return `<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1">
<configuration>
<crm_config><cluster_property_set id="opts"><nvpair id="opts-stonith" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes>
${nodes}
</nodes>
<resources>
${resources}
</resources>
<constraints>
${cons.join('\n')}
</constraints>
</configuration>
<status>
${states}
</status>
</cib>
`;
}

/** The final placement crm_simulate's transition summary implies, from the current one. */
export function parseSummary(out: string, active: Readonly<Record<string, string>>, prims: readonly string[]): Record<string, string | null> {
  const nodeOf: Record<string, string | null> = Object.fromEntries(prims.map((p) => [p, active[p] ?? null]));
  for (const line of out.split('\n')) {
    const m = /^\s*\*?\s*(Start|Stop|Move|Restart|Recover|Migrate)\s+(\S+)\s+\(\s*([^)]*?)\s*\)(.*)$/.exec(line);
    if (!m) continue;
    const [, verb, rsc = '', where = '', rest = ''] = m;
    if (/blocked/.test(rest)) continue; // not carried out: the resource stays as it is
    if (verb === 'Stop') nodeOf[rsc] = null;
    else if (verb === 'Start' || verb === 'Restart' || verb === 'Recover') nodeOf[rsc] = where.trim();
    else nodeOf[rsc] = (where.split('->')[1] ?? '').trim();
  }
  return nodeOf;
}
