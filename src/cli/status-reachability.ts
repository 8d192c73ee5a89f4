/** The data-path check's lines in `vmac status` (when dataPathCheck is configured). */
import type { DaemonStatus } from '../daemon/node-daemon.js';

export function dataPathLines(s: DaemonStatus): string[] {
  const d = s.dataPath;
  if (!d) return [];
  const role = d.role === 'holding' ? 'HOLDING (failing, but no healthy peer: keeps serving)' : d.role === 'draining' ? 'DRAINING (failing: buckets handed to the peers)'
    : d.role === 'settling' ? 'SETTLING (failing: announcing standby before draining)' : 'serving';
  const last = d.lastRound === null ? 'no round yet' : `last round ${d.lastRound.outcome} ${d.lastRound.agoMs} ms ago${d.lastRound.lost.length === 0 ? '' : ` (lost: ${d.lastRound.lost.join(', ')})`}`;
  return [
    '',
    `data path: ${d.health}, ${role} for ${d.roleForMs} ms; require ${d.require}, every ${d.intervalMs} ms, fall ${d.fall}, rise ${d.rise}; ${last}; rounds ${d.rounds}, failed ${d.failedRounds}, not counted (daemon late) ${d.inconclusiveRounds}; healthy peers ${d.healthyPeers}`,
    '| target | sent | answered | last rtt | last answer |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...d.targets.map((t) => `| ${t.address} | ${t.sent} | ${t.answered} | ${t.lastRttMs === null ? 'lost' : `${t.lastRttMs.toFixed(1)} ms`} | ${t.lastAnsweredMsAgo === null ? 'never' : `${t.lastAnsweredMsAgo} ms ago`} |`),
  ];
}
