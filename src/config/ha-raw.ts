/** The issue-5 sections of a service file as written (what the schema accepts). */
import type { RawScore } from '../crm/score.js';

export interface RawResource {
  name: string;
  command?: { start: string; stop: string; monitor: string };
  systemd?: { unit: string; systemctl?: string };
  ocf?: { root?: string; provider: string; agent: string; params?: Record<string, string> };
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  damping?: { holdBaseMs?: number; holdMaxMs?: number; decayMs?: number };
  // Cluster placement (issue 19; src/config/crm-config.ts builds and checks these).
  kind?: 'clone' | 'singleton' | 'group';
  members?: string[];
  vip?: { address: string; interface?: string };
  prefer?: Record<string, RawScore>;
  avoid?: Record<string, RawScore>;
  stickiness?: number;
  colocate?: { with: string; score?: RawScore }[];
  after?: string[];
  migrationThreshold?: number;
  failureTimeoutMs?: number;
}

export interface RawHealthCheck {
  resource: string;
  http?: { url: string; expectStatus?: number[]; bodyMatch?: string };
  tcp?: { host: string; port: number };
  command?: string;
  monitor?: boolean;
  intervalMs?: number;
  timeoutMs?: number;
  rise?: number;
  fall?: number;
}

export interface RawFencing {
  action?: 'off' | 'reboot';
  delayMs?: number;
  timeoutMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  agent: {
    exec?: { path: string; params?: Record<string, string>; targets?: Record<string, Record<string, string>> };
  };
  watchdog?: { enabled?: boolean; device?: string; kickMs?: number };
}

export interface RawQuorum {
  policy?: 'majority' | 'two-node';
  tieBreaker?: { ping: string; intervalMs?: number; timeoutMs?: number; fall?: number; rise?: number };
}

export interface RawHaSections {
  resources?: RawResource[];
  healthChecks?: RawHealthCheck[];
  fencing?: RawFencing;
  quorum?: RawQuorum;
}
