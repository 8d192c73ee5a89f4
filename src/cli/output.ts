/** How commands end: exit codes and error rendering shared by every command. */
import { isVmacError } from '../util/errors.js';
import { formatConfigError } from '../config/format-problems.js';

/** 0 ok · 1 runtime failure · 2 bad input (config, arguments) — scripts can tell them apart. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;
/**
 * A hitless restart (SIGUSR2) ended this process and left the kernel serving for its successor:
 * EX_TEMPFAIL, which the systemd unit treats as a clean exit that always restarts the unit.
 */
export const EXIT_RESTART = 75;

export function reportError(err: unknown): number {
  if (isVmacError(err, 'VMAC_CONFIG_INVALID') || isVmacError(err, 'VMAC_CONFIG_UNREADABLE')) {
    process.stderr.write(`${formatConfigError(err)}\n`);
    return EXIT_BAD_INPUT;
  }
  if (isVmacError(err, 'VMAC_BAD_ADDRESS') || isVmacError(err, 'VMAC_LAB_BAD_OPTION')) {
    process.stderr.write(`vmac: ${err.message}\n`);
    return EXIT_BAD_INPUT;
  }
  if (isVmacError(err)) {
    process.stderr.write(`vmac: ${err.code}: ${err.message}\n`);
    return EXIT_FAILURE;
  }
  process.stderr.write(`vmac: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT_FAILURE;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
