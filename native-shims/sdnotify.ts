/**
 * The only file that loads our sd_notify shim (native-shims/sdnotify/, built by `make setup`).
 * Node has no unix datagram sockets; systemd's notify protocol is one datagram per message to
 * the socket named by $NOTIFY_SOCKET (sd_notify(3)).
 */
import { createRequire } from 'node:module';
import { addonPath } from './addon-path.js';
import { VmacError } from '../src/util/errors.js';

export interface NotifySocket {
  /** Sends one notify message (e.g. "READY=1\nSTATUS=serving"); throws VMAC_NOTIFY_FAILED. */
  send(message: string): void;
}

interface NativeModule { send(path: string, message: string): number }
let loaded: NativeModule | undefined;


/** Loads the addon (once): `vmac run` checks this before any kernel change when systemd waits for READY=1. */
export function loadSdnotifyShim(): void {
  if (loaded) return;
  const require = createRequire(import.meta.url);
  const mod = require(addonPath('sdnotify', 'vmac_sdnotify', 'VMAC_NOTIFY_FAILED', 'sd_notify shim')) as Partial<NativeModule>;
  if (typeof mod.send !== 'function') throw new VmacError('VMAC_NOTIFY_FAILED', 'the sd_notify shim lacks send(): rebuild it with `make setup`');
  loaded = mod as NativeModule;
}

/** The notify socket of $NOTIFY_SOCKET (path or @abstract), or null when not run by systemd. */
export function openNotifySocket(path: string | undefined = process.env.NOTIFY_SOCKET): NotifySocket | null {
  if (path === undefined || path === '') return null;
  loadSdnotifyShim();
  const native = loaded as NativeModule;
  return {
    send(message) {
      try {
        native.send(path, message);
      } catch (err) {
        throw new VmacError('VMAC_NOTIFY_FAILED', `sd_notify to ${path} failed: ${(err as Error).message}`, { path, errno: (err as { code?: string }).code }, { cause: err });
      }
    },
  };
}
