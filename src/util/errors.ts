/**
 * One error class with a stable `code`, so callers switch on the code rather than the message
 * (undici's pattern). Codes are part of the CLI and log vocabulary: never rename one.
 */
export type ErrorCode =
  | 'VMAC_CONFIG_INVALID'
  | 'VMAC_CONFIG_UNREADABLE'
  | 'VMAC_BAD_ADDRESS'
  | 'VMAC_NFT_FAILED'
  | 'VMAC_NFT_UNAVAILABLE'
  | 'VMAC_RT_UNAVAILABLE'
  | 'VMAC_LINK_NOT_FOUND'
  | 'VMAC_NETLINK_FAILED'
  | 'VMAC_PCAP_FAILED'
  | 'VMAC_SYSCTL_FAILED'
  | 'VMAC_LAB_FAILED'
  | 'VMAC_LAB_BAD_OPTION'
  | 'VMAC_NOT_ROOT'
  | 'VMAC_KEY_UNREADABLE'
  | 'VMAC_KEY_INSECURE'
  | 'VMAC_KEY_INVALID'
  | 'VMAC_HEARTBEAT_INVALID'
  | 'VMAC_CONTROL_FAILED'
  | 'VMAC_METRICS_LISTEN_FAILED'
  | 'VMAC_NOTIFY_FAILED'
  | 'VMAC_RESOURCE_INVALID'
  | 'VMAC_FENCE_FAILED'
  | 'VMAC_WATCHDOG_FAILED'
  | 'VMAC_PING_FAILED'
  | 'VMAC_NATIVE_UNAVAILABLE'
  | 'VMAC_START_FAILED'
  | 'VMAC_CONNTRACK_FAILED'
  | 'VMAC_IPV6_DISABLED'
  | 'VMAC_MLD_FAILED'
  | 'VMAC_XDP_UNAVAILABLE'
  | 'VMAC_XDP_BUSY'
  | 'VMAC_IGMP_FAILED';

export class VmacError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VmacError';
    this.code = code;
    this.details = details;
  }
}

export function isVmacError(err: unknown, code?: ErrorCode): err is VmacError {
  return err instanceof VmacError && (code === undefined || err.code === code);
}
