/**
 * The three addresses every ARP sender in vmac needs, validated once so that the responder and
 * the gratuitous bursts cannot disagree on spelling and cannot put the VMAC on the wire as an
 * Ethernet source.
 */
import { VmacError } from '../util/errors.js';
import { formatMac, parseIp, parseMac } from '../util/ip.js';
import { isUnicastMac } from './arp-frame.js';

export interface ArpIdentity {
  /** The shared virtual IPv4 address, canonical text. */
  readonly vip: string;
  /** The shared virtual MAC: ARP sender hardware address only, never an Ethernet source. */
  readonly vmac: string;
  /** This node's own interface MAC: the Ethernet source of everything we send. */
  readonly realMac: string;
  /** arp-steer (issue 17): no shared MAC; `vmac` is this node's own MAC and equals `realMac`. */
  readonly steer?: boolean;
}

/**
 * Canonicalises and checks the identity. The VMAC may be a group address (the `multicast`
 * mode), but the real MAC must be a unicast address different from the VMAC: if a node ever
 * sent with the VMAC as source, a learning switch would pin the VMAC to that node's port and
 * stop flooding frames for it to the others.
 */
export function validateArpIdentity(input: ArpIdentity): ArpIdentity {
  const ip = parseIp(input.vip);
  if (ip.family !== 4) throw invalid(`ARP needs an IPv4 VIP, got ${JSON.stringify(input.vip)}`, input);
  const vmac = formatMac(parseMac(input.vmac));
  const realMac = formatMac(parseMac(input.realMac));
  if (input.steer === true) {
    if (realMac !== vmac) throw invalid('arp-steer answers with the node\'s own MAC: vmac must equal the real MAC', input);
  } else if (realMac === vmac) throw invalid('the real MAC equals the VMAC: the VMAC must never be an Ethernet source', input);
  if (!isUnicastMac(realMac)) throw invalid(`the real MAC ${realMac} is not a unicast address`, input);
  return { vip: ip.text, vmac, realMac, ...(input.steer === true ? { steer: true } : {}) };
}

function invalid(message: string, input: ArpIdentity): VmacError {
  return new VmacError('VMAC_CONFIG_INVALID', message, { vip: input.vip, vmac: input.vmac, realMac: input.realMac });
}
