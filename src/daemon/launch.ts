/**
 * The order in which `vmac run` comes up, and what it undoes when a step fails:
 *   1. preflight   load every native module the config needs; a missing required one refuses
 *                  the start before anything is changed (src/daemon/preflight.ts)
 *   2. start       the daemon (node-daemon.ts): VIP, sysctls, nftables table, sockets, cluster;
 *                  it removes what it added itself when one of its own steps fails
 *   3. after start what runs beside the daemon (metrics, systemd notifications, scheduling); if
 *                  this fails the daemon is stopped with reason `error` (no hand-over, every
 *                  kernel change removed) before the error is reported
 * Every failure ends as an exception with a stable code that names the cause; the caller exits
 * non-zero. The ports are functions, so the order and the clean-up are tested with fakes.
 */
import { VmacError, isVmacError } from '../util/errors.js';
import { refusalMessage, type PreflightReport } from './preflight.js';

export interface Stoppable { stop(reason: 'error'): Promise<void> }

export interface LaunchSteps<D extends Stoppable, A> {
  readonly preflight: () => PreflightReport;
  /** Told what the preflight found missing but optional, before start. */
  readonly onDegraded: (r: PreflightReport) => void;
  readonly start: (r: PreflightReport) => Promise<D>;
  readonly afterStart: (daemon: D, r: PreflightReport) => Promise<A>;
}

export async function launch<D extends Stoppable, A>(s: LaunchSteps<D, A>): Promise<{ daemon: D; extras: A; report: PreflightReport }> {
  const report = s.preflight();
  if (report.verdict === 'refuse') {
    throw new VmacError('VMAC_NATIVE_UNAVAILABLE', refusalMessage(report), { refused: report.refused });
  }
  if (report.degraded.length > 0) s.onDegraded(report);
  const daemon = await s.start(report);
  try {
    return { daemon, extras: await s.afterStart(daemon, report), report };
  } catch (err) {
    let cleanup = 'every kernel change was removed';
    try {
      await daemon.stop('error');
    } catch (stopErr) {
      cleanup = `removing the kernel changes failed too (${stopErr instanceof Error ? stopErr.message : String(stopErr)}); the kernel lease expires by itself`;
    }
    const cause = isVmacError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
    throw new VmacError('VMAC_START_FAILED', `start-up failed after the data path was up (${cause}); ${cleanup}`, {}, { cause: err });
  }
}
