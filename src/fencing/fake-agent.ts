/** A scripted fence agent for tests: records calls, answers `next`. */
import type { AgentResult, FenceAgent } from './agent.js';

export interface FakeAgent extends FenceAgent { next: AgentResult; readonly calls: string[] }

export function fakeAgent(): FakeAgent {
  const a: FakeAgent = {
    kind: 'fake',
    describe: 'fake',
    next: { outcome: 'success', detail: 'fenced' },
    calls: [],
    run(action, target) { a.calls.push(`${action}:${target.name}`); return Promise.resolve(a.next); },
  };
  return a;
}
