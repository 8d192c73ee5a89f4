/**
 * What `vmac run` checks before it touches the kernel: every native module the daemon will use
 * is loaded first, and this pure decision says whether it may go on. A module the config needs
 * (the data path, addresses, ARP capture; ICMP for the two-node tie-breaker and the data-path
 * check; sd_notify when systemd waits for READY=1) refuses the start with its name and cause,
 * and nothing has been changed. An optional one (real-time scheduling) is reported, and the
 * daemon runs without it: at normal scheduling it works, only with less margin under CPU load
 * (src/util/realtime.ts).
 */
import type { VmacConfig } from '../config/types.js';

export const NATIVE_MODULES = ['nftables', 'netlink', 'cap', 'raw-socket', 'realtime', 'sdnotify', 'conntrack', 'xdp'] as const;
export type NativeModule = (typeof NATIVE_MODULES)[number];

/** required: no start without it · optional: reported, the daemon runs without · unused: not loaded. */
export type Need = 'required' | 'optional' | 'unused';

export interface ModuleNeed { readonly need: Need; readonly why: string }

export type ProbeResult = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

export interface PreflightReport {
  readonly verdict: 'start' | 'refuse';
  /** Required modules that failed to load: the start is refused before any kernel change. */
  readonly refused: readonly { module: NativeModule; why: string; code: string; message: string }[];
  /** Optional modules that failed to load: the daemon runs without what they give. */
  readonly degraded: readonly { module: NativeModule; without: string; code: string; message: string }[];
  readonly loaded: readonly NativeModule[];
}

/** Which native modules this config and environment need, and why. */
export function nativeNeeds(cfg: Pick<VmacConfig, 'quorum' | 'dataPathCheck' | 'datapath'>, env: Readonly<Record<string, string | undefined>>): Record<NativeModule, ModuleNeed> {
  const twoNode = cfg.quorum?.policy === 'two-node';
  const dpc = cfg.dataPathCheck !== undefined && cfg.dataPathCheck !== null;
  const icmpWhy = [twoNode ? 'the two-node tie-breaker (quorum.policy two-node)' : '', dpc ? 'the data-path check (dataPathCheck)' : ''].filter(Boolean).join(' and ');
  const notify = env.NOTIFY_SOCKET !== undefined && env.NOTIFY_SOCKET !== '';
  return {
    nftables: { need: 'required', why: 'the kernel data path (nftables netdev table)' },
    netlink: { need: 'required', why: 'the VIP address on the cluster interface (rtnetlink)' },
    cap: { need: 'required', why: 'the ARP responder and gratuitous ARP (packet socket)' },
    'raw-socket': icmpWhy ? { need: 'required', why: `ICMP echo for ${icmpWhy}` } : { need: 'unused', why: 'no tie-breaker and no data-path check configured' },
    realtime: env.VMAC_REALTIME === '0' ? { need: 'unused', why: 'VMAC_REALTIME=0' } : { need: 'optional', why: 'SCHED_FIFO for the heartbeat path' },
    // Under systemd (Type=notify) a daemon that cannot send READY=1 is killed at TimeoutStartSec:
    // better refuse now, with the reason, than after the data path is up.
    sdnotify: notify ? { need: 'required', why: 'READY=1 and WATCHDOG=1 to systemd ($NOTIFY_SOCKET is set)' } : { need: 'unused', why: 'not started by systemd ($NOTIFY_SOCKET unset)' },
    // Drains and the per-flow UDP hand-over read conntrack through it (VMAC_CONNTRACK=tool: the
    // `conntrack -L` child instead, for cost comparisons).
    conntrack: env.VMAC_CONNTRACK === 'tool' ? { need: 'unused', why: 'VMAC_CONNTRACK=tool' } : { need: 'required', why: 'the connection-preserving hand-over (conntrack over netlink)' },
    // The libbpf shim and its BPF object (native-shims/xdp/): only the XDP backend loads them.
    xdp: cfg.datapath === 'xdp' ? { need: 'required', why: 'the XDP data path (datapath: xdp)' } : { need: 'unused', why: 'datapath: nft' },
  };
}

/** Runs `probe` on every module that is needed, in a fixed order, and decides. */
export function preflight(needs: Readonly<Record<NativeModule, ModuleNeed>>, probe: (m: NativeModule) => ProbeResult): PreflightReport {
  const refused: PreflightReport['refused'][number][] = [];
  const degraded: PreflightReport['degraded'][number][] = [];
  const loaded: NativeModule[] = [];
  for (const module of NATIVE_MODULES) {
    const n = needs[module];
    if (n.need === 'unused') continue;
    const r = probe(module);
    if (r.ok) loaded.push(module);
    else if (n.need === 'required') refused.push({ module, why: n.why, code: r.code, message: r.message });
    else degraded.push({ module, without: n.why, code: r.code, message: r.message });
  }
  return { verdict: refused.length > 0 ? 'refuse' : 'start', refused, degraded, loaded };
}

/** One line for the operator: what is missing and what it is for. */
export function refusalMessage(r: PreflightReport): string {
  return `refusing to start, nothing was changed: ${r.refused.map((x) => `native module ${x.module} (needed for ${x.why}) did not load: ${x.message}`).join('; ')}`;
}
