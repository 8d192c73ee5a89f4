/**
 * Headless Chromium inside a lab node's namespace, so the browser reaches the dashboard on that
 * namespace's loopback exactly as an operator's browser on the node would. Debian's `chromium`
 * package driven by playwright-core: never a downloaded browser. The namespace is entered by a
 * tiny wrapper script (`ip netns exec <ns> /usr/bin/chromium "$@"`) given as executablePath.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface NsBrowser { context: BrowserContext; close(): Promise<void> }

export async function launchChromiumInNs(ns: string): Promise<NsBrowser> {
  const dir = mkdtempSync(join(tmpdir(), 'vmac-chromium-'));
  const wrapper = join(dir, 'chromium-in-ns.sh');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ${CHROMIUM} "$@"\n`);
  chmodSync(wrapper, 0o755);
  // A fresh profile directory per run (playwright passes it as --user-data-dir).
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: wrapper,
    viewport: { width: 1400, height: 820 },
    headless: true,
    timeout: 60_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    env: { ...process.env, HOME: dir },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
