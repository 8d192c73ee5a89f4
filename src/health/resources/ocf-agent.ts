/**
 * An OCF resource agent from the standard layout (Debian's `resource-agents`):
 * /usr/lib/ocf/resource.d/<provider>/<agent>, run with OCF_ROOT, OCF_RESOURCE_INSTANCE,
 * OCF_RESOURCE_TYPE, OCF_RESOURCE_PROVIDER and one OCF_RESKEY_<name> per parameter. Before first
 * use the agent's `meta-data` is read and the parameters are checked against it (unknown names
 * and missing required ones are refused, naming the parameter). Exit codes per the OCF spec.
 */
import { VmacError } from '../../util/errors.js';
import type { ActionResult, MonitorResult, ResourceDriver } from './driver.js';
import { runProcess, type ProcessResult, type ProcessRunner } from '../../adapters/run-process.js';

export interface OcfAgentSpec {
  readonly root: string; // OCF_ROOT, /usr/lib/ocf on Debian
  readonly provider: string; // e.g. heartbeat
  readonly agent: string; // e.g. Dummy
  readonly instance: string; // OCF_RESOURCE_INSTANCE
  readonly params: Readonly<Record<string, string>>;
}

/** OCF return codes (OCF resource agent API 1.0). */
export const OCF = { SUCCESS: 0, ERR_GENERIC: 1, ERR_ARGS: 2, ERR_UNIMPLEMENTED: 3, ERR_PERM: 4, ERR_INSTALLED: 5, ERR_CONFIGURED: 6, NOT_RUNNING: 7, RUNNING_PROMOTED: 8, FAILED_PROMOTED: 9 } as const;
const NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(OCF).map(([k, v]) => [v, k]));

export function ocfCodeName(code: number | null): string {
  return code === null ? 'killed' : (NAMES[code] ?? `exit ${code}`);
}

export interface OcfParameter { readonly name: string; readonly required: boolean; readonly unique: boolean; readonly defaultValue: string | null }

/** The <parameter> entries of an agent's meta-data (a small, regular XML: no parser needed). */
export function parseMetaData(xml: string): OcfParameter[] {
  const out: OcfParameter[] = [];
  for (const m of xml.matchAll(/<parameter\b([^>]*)>([\s\S]*?)<\/parameter>/g)) {
    const attrs = m[1] ?? '';
    const attr = (name: string): string | undefined => new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`).exec(attrs)?.[1];
    const name = attr('name');
    if (name === undefined) continue;
    const dflt = /<content\b[^>]*\bdefault\s*=\s*"([^"]*)"/.exec(m[2] ?? '')?.[1] ?? null;
    out.push({ name, required: attr('required') === '1', unique: attr('unique') === '1', defaultValue: dflt });
  }
  return out;
}

/** Problems with `params` for an agent with these parameters, each naming the parameter. */
export function paramProblems(params: Readonly<Record<string, string>>, declared: readonly OcfParameter[]): string[] {
  const known = new Set(declared.map((p) => p.name));
  const problems = Object.keys(params).filter((k) => !known.has(k)).map((k) => `params.${k}: not a parameter of this agent (it takes: ${[...known].join(', ') || 'none'})`);
  for (const p of declared) if (p.required && params[p.name] === undefined) problems.push(`params.${p.name}: required by the agent`);
  return problems;
}

export function agentPath(s: Pick<OcfAgentSpec, 'root' | 'provider' | 'agent'>): string {
  return `${s.root}/resource.d/${s.provider}/${s.agent}`;
}

export function ocfEnv(s: OcfAgentSpec, timeoutMs: number, base: Readonly<Record<string, string | undefined>> = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !k.startsWith('OCF_')) env[k] = v;
  Object.assign(env, {
    OCF_ROOT: s.root, OCF_RA_VERSION_MAJOR: '1', OCF_RA_VERSION_MINOR: '0', OCF_RESOURCE_INSTANCE: s.instance,
    OCF_RESOURCE_TYPE: s.agent, OCF_RESOURCE_PROVIDER: s.provider, OCF_RESKEY_CRM_meta_timeout: String(timeoutMs),
  });
  for (const [k, v] of Object.entries(s.params)) env[`OCF_RESKEY_${k}`] = v;
  return env;
}

export interface OcfDriver extends ResourceDriver {
  /** Reads meta-data and checks the parameters; throws VMAC_RESOURCE_INVALID naming them. */
  validate(timeoutMs: number): Promise<OcfParameter[]>;
}

export function ocfAgent(s: OcfAgentSpec, run: ProcessRunner = runProcess): OcfDriver {
  const path = agentPath(s);
  let validated = false;
  const call = (action: string, timeoutMs: number): Promise<ProcessResult> => run(path, [action], { timeoutMs, env: ocfEnv(s, timeoutMs) });
  const describe = `ocf:${s.provider}:${s.agent}`;
  const detail = (action: string, r: ProcessResult): string => (r.outcome === 'exited' ? `${describe} ${action}: ${ocfCodeName(r.code)}${r.stderr.trim() === '' ? '' : ` (${r.stderr.trim().split('\n').pop()?.slice(0, 160) ?? ''})`}` : r.detail);
  const driver: OcfDriver = {
    kind: 'ocf',
    describe,
    async validate(timeoutMs) {
      const r = await call('meta-data', timeoutMs);
      if (r.outcome !== 'exited' || r.code !== OCF.SUCCESS) {
        throw new VmacError('VMAC_RESOURCE_INVALID', `${describe}: meta-data failed: ${detail('meta-data', r)}`, { agent: path });
      }
      const declared = parseMetaData(r.stdout);
      const problems = paramProblems(s.params, declared);
      if (problems.length > 0) throw new VmacError('VMAC_RESOURCE_INVALID', `${describe}: ${problems.join('; ')}`, { agent: path, problems });
      validated = true;
      return declared;
    },
    async start(timeoutMs): Promise<ActionResult> {
      if (!validated) {
        try { await driver.validate(timeoutMs); } catch (err) { return { outcome: 'failed', detail: err instanceof Error ? err.message : String(err) }; }
      }
      const r = await call('start', timeoutMs);
      if (r.outcome === 'timeout') return { outcome: 'timeout', detail: r.detail };
      return { outcome: r.outcome === 'exited' && r.code === OCF.SUCCESS ? 'ok' : 'failed', detail: detail('start', r) };
    },
    async stop(timeoutMs): Promise<ActionResult> {
      const r = await call('stop', timeoutMs);
      if (r.outcome === 'timeout') return { outcome: 'timeout', detail: r.detail };
      // Stopping something already stopped is success (OCF: stop must be idempotent).
      return { outcome: r.outcome === 'exited' && (r.code === OCF.SUCCESS || r.code === OCF.NOT_RUNNING) ? 'ok' : 'failed', detail: detail('stop', r) };
    },
    async monitor(timeoutMs): Promise<MonitorResult> {
      const r = await call('monitor', timeoutMs);
      if (r.outcome !== 'exited') return { state: 'failed', detail: r.detail };
      const state = r.code === OCF.SUCCESS || r.code === OCF.RUNNING_PROMOTED ? 'running' : r.code === OCF.NOT_RUNNING ? 'stopped' : 'failed';
      return { state, detail: detail('monitor', r) };
    },
  };
  return driver;
}
