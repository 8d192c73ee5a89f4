import { readFileSync, writeFileSync } from 'node:fs';
import { VmacError } from '../util/errors.js';

/** Kernel parameters of this network namespace (/proc/sys). */
export interface SysctlPort {
  read(key: string): string;
  write(key: string, value: string): void;
}

const path = (key: string): string => `/proc/sys/${key.replace(/\./g, '/')}`;

export const procSysctl: SysctlPort = {
  read(key) {
    try {
      return readFileSync(path(key), 'utf8').trim();
    } catch (err) {
      throw new VmacError('VMAC_SYSCTL_FAILED', `cannot read sysctl ${key}: ${(err as Error).message}`, { key }, { cause: err });
    }
  },
  write(key, value) {
    try {
      writeFileSync(path(key), value);
    } catch (err) {
      throw new VmacError('VMAC_SYSCTL_FAILED', `cannot set sysctl ${key}=${value}: ${(err as Error).message}`, { key, value }, { cause: err });
    }
  },
};

export function fakeSysctl(initial: Record<string, string> = {}): SysctlPort & { values: Map<string, string> } {
  const values = new Map(Object.entries(initial));
  return {
    values,
    read(key) {
      const v = values.get(key);
      if (v === undefined) throw new VmacError('VMAC_SYSCTL_FAILED', `cannot read sysctl ${key}: ENOENT`, { key });
      return v;
    },
    write(key, value) {
      values.set(key, value);
    },
  };
}
