/** The fence agent a config names: exec (fence-agents convention) or lab. */
import type { FenceAgentSpec } from '../../config/ha-types.js';
import type { FenceAgent } from './agent.js';
import { execAgent } from './exec-agent.js';
import { labAgent } from './lab-agent.js';

export function fenceAgentFor(spec: FenceAgentSpec): FenceAgent {
  return spec.kind === 'exec' ? execAgent(spec) : labAgent(spec);
}
