/**
 * The only file that loads our sd_notify shim (native-shims/sdnotify/, built by `make setup`).
 * Node has no unix datagram sockets; systemd's notify protocol is one datagram per message to
 * the socket named by $NOTIFY_SOCKET (sd_notify(3)).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VmacError } from '../src/util/errors.js';

export interface NotifySocket {
  /** Sends one notify message (e.g. "READY=1\nSTATUS=serving"); throws VMAC_NOTIFY_FAILED. */
  send(message: string): void;
}

interface NativeModule { send(path: string, message: string): number }
let loaded: NativeModule | undefined;

function addonPath(): string {
  const candidates = ['./sdnotify/build/Release/vmac_sdnotify.node', '../../native-shims/sdnotify/build/Release/vmac_sdnotify.node'];
  for (const rel of candidates) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new VmacError('VMAC_NOTIFY_FAILED', 'the sd_notify shim is not built (native-shims/sdnotify): run `make setup`', { candidates });
}

/** The notify socket of $NOTIFY_SOCKET (path or @abstract), or null when not run by systemd. */
export function openNotifySocket(path: string | undefined = process.env.NOTIFY_SOCKET): NotifySocket | null {
  if (path === undefined || path === '') return null;
  if (!loaded) {
    const require = createRequire(import.meta.url);
    const mod = require(addonPath()) as Partial<NativeModule>;
    if (typeof mod.send !== 'function') throw new VmacError('VMAC_NOTIFY_FAILED', 'the sd_notify shim lacks send(): rebuild it with `make setup`');
    loaded = mod as NativeModule;
  }
  const native = loaded;
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
