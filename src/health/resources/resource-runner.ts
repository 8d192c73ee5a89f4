/**
 * Runs one resource: feeds the policy reducer (resource-policy.ts) with driver and health-check
 * results on the injected clock, and carries out its effects. Checks run every intervalMs, one at
 * a time (a slow check is not stacked), each bounded by timeoutMs. The daemon sees the role
 * (`onRole`) and is asked to hand its buckets over before the service is stopped (`releaseBuckets`).
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { eachEffect, reducerLoop } from '../../util/reducer-loop.js';
import type { ResourceDriver } from './driver.js';
import type { HealthCheck } from './health-check.js';
import { initResource, step, type CheckRecord, type ResourceEffect, type ResourceEvent, type ResourcePolicyConfig, type ResourceState, type Role } from './resource-policy.js';

export interface ResourceRunnerDeps {
  readonly name: string;
  readonly driver: ResourceDriver;
  readonly check: HealthCheck;
  readonly policy: ResourcePolicyConfig;
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly onRole: (role: Role) => void;
  /** Hands this node's buckets to the peers; resolves when they are released. */
  readonly releaseBuckets: () => Promise<void>;
}

export interface ResourceStatus {
  readonly name: string;
  readonly kind: string;
  readonly describe: string;
  readonly phase: string;
  readonly health: string;
  readonly role: Role;
  readonly lastCheck: (CheckRecord & { agoMs: number }) | null;
  readonly failures: number;
  /** Checks that passed since start (with `failures`: every check the policy counted). */
  readonly passes: number;
  readonly flaps: number;
  readonly holdRemainingMs: number | null;
}

export interface ResourceRunner {
  start(): void;
  /** Buckets released, then the service stopped; resolves when it is. */
  stop(): Promise<void>;
  /** The number of peers heard as active (healthy owners), from the cluster's view. */
  setHealthyPeers(n: number): void;
  role(): Role;
  status(): ResourceStatus;
  close(): void;
}

export function createResourceRunner(d: ResourceRunnerDeps): ResourceRunner {
  const { clock, log } = d;
  let checking = false;
  let stopped: (() => void) | null = null;
  const timers: TimerHandle[] = [];
  const loop = reducerLoop<ResourceState, ResourceEvent, ResourceEffect>({
    init: initResource(), step: (s, e, nowMs) => step(s, e, nowMs, d.policy), clock, perform: eachEffect(apply),
  });
  const send = loop.dispatch;
  const phase = (): ResourceState['phase'] => loop.state().phase;

  function apply(e: ResourceEffect): void {
    switch (e.kind) {
      case 'start-service':
        void d.driver.start(d.startTimeoutMs).then((r) => send({ kind: 'start-done', outcome: r.outcome, detail: r.detail }), (err: unknown) => send({ kind: 'start-done', outcome: 'failed', detail: String(err) }));
        break;
      case 'stop-service':
        void d.driver.stop(d.stopTimeoutMs).then((r) => { send({ kind: 'stop-done', outcome: r.outcome, detail: r.detail }); stopped?.(); }, (err: unknown) => { send({ kind: 'stop-done', outcome: 'failed', detail: String(err) }); stopped?.(); });
        break;
      case 'release-buckets':
        void d.releaseBuckets().then(() => send({ kind: 'buckets-released' }), (err: unknown) => {
          log.error({ err, event: 'release-failed' }, 'handing the buckets over failed; stopping the service anyway');
          send({ kind: 'buckets-released' });
        });
        break;
      case 'role-changed':
        log.info({ event: 'resource-role', from: e.from, to: e.to, reason: e.reason }, `resource ${d.name}: ${e.from} -> ${e.to} (${e.reason})`);
        d.onRole(e.to);
        break;
      case 'log':
        log[e.level]({ event: e.event, ...e.data }, e.msg);
        break;
    }
  }

  function runCheck(): void {
    send({ kind: 'tick' });
    if (checking || loop.state().phase !== 'running') return;
    checking = true;
    const timeoutMs = d.policy.health.timeoutMs;
    void d.check.run(timeoutMs).then((r) => { checking = false; send({ kind: 'check-done', outcome: r.outcome, detail: r.detail }); }, (err: unknown) => { checking = false; send({ kind: 'check-done', outcome: 'fail', detail: String(err) }); });
  }

  return {
    start() {
      timers.push(clock.setRepeating(d.policy.health.intervalMs, runCheck));
      send({ kind: 'start-requested' });
    },
    stop() {
      return new Promise<void>((resolve) => {
        stopped = resolve;
        send({ kind: 'stop-requested' });
        // Nothing was running (stopped, or a failed start): nothing to wait for.
        if (phase() === 'stopped') resolve();
      });
    },
    setHealthyPeers(n) { if (n !== loop.state().healthyPeers) send({ kind: 'peers', healthyPeers: n }); },
    role: () => loop.state().role,
    status(): ResourceStatus {
      const now = clock.nowMs();
      const s = loop.state();
      return {
        name: d.name, kind: d.driver.kind, describe: d.driver.describe, phase: s.phase, health: s.health, role: s.role,
        lastCheck: s.lastCheck === null ? null : { ...s.lastCheck, agoMs: Math.round(now - s.lastCheck.atMs) },
        failures: s.failures, passes: s.passes, flaps: s.flaps, holdRemainingMs: s.holdUntilMs === null || s.holdUntilMs <= now ? null : Math.round(s.holdUntilMs - now),
      };
    },
    close() {
      loop.close();
      for (const h of timers) clock.clear(h);
    },
  };
}
