/** How the VIP's frames reach the nodes (src/model/mode-addresses.ts, docs/switch-modes.md). */
export type Mode = 'unicast' | 'multicast' | 'igmp' | 'arp-steer';
