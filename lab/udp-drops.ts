/**
 * UDP datagrams the kernel dropped because a socket's receive buffer was full (RcvbufErrors in
 * /proc/net/snmp, per namespace). A probe "lost" while this counter moved was dropped by a
 * starved prober or echo service, not by the cluster: the lab reports the two apart.
 */
import { nsRun } from './exec.js';

export async function udpRcvbufErrors(ns: string): Promise<number> {
  const snmp = await nsRun(ns, 'cat', ['/proc/net/snmp']);
  const lines = snmp.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  const i = names.indexOf('RcvbufErrors');
  return i < 0 ? 0 : Number(values[i] ?? 0);
}

/** Sum of RcvbufErrors over namespaces (node namespaces hold the echo services, clients the probers). */
export async function udpRcvbufErrorsIn(namespaces: readonly string[]): Promise<number> {
  const counts = await Promise.all(namespaces.map((ns) => udpRcvbufErrors(ns)));
  return counts.reduce((a, b) => a + b, 0);
}
