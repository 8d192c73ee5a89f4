/** The fence agent a config names: a fence-agents program (exec). */
import type { FenceAgentSpec } from '../config/ha-types.js';
import type { FenceAgent } from './agent.js';
import { execAgent } from './exec-agent.js';

export function fenceAgentFor(spec: FenceAgentSpec): FenceAgent {
  return execAgent(spec);
}
