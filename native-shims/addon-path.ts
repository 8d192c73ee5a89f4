/**
 * Where one of our node-gyp addons was built: `native-shims/<dir>/build/Release/<name>.node`,
 * found from the shim's own module in the source tree (tsx) and in dist/ (tsc output).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VmacError, type ErrorCode } from '../src/util/errors.js';

export function addonPath(dir: string, name: string, code: ErrorCode, what: string): string {
  const candidates = [`./${dir}/build/Release/${name}.node`, `../../native-shims/${dir}/build/Release/${name}.node`];
  for (const rel of candidates) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new VmacError(code, `the ${what} is not built (native-shims/${dir}): run \`make setup\``, { candidates });
}
