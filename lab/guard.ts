/**
 * Runs lab work so that the lab is removed however the work ends: success, error, or Ctrl-C /
 * SIGTERM (the handler tears down, then exits 130). `keep` leaves a successful lab up.
 */
import { labDown } from './lab.js';
import { assertNothingLeft } from './selftest.js';

export async function withLabCleanup<T>(name: string, work: () => Promise<T>, opts: { keep?: boolean } = {}): Promise<T> {
  let tearingDown = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (tearingDown) return;
    tearingDown = true;
    process.stderr.write(`\n${sig}: removing lab ${name}…\n`);
    void labDown(name).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await work();
    if (!opts.keep) {
      await labDown(name);
      await assertNothingLeft(name); // a run that leaves a namespace behind fails
    }
    return result;
  } catch (err) {
    await labDown(name);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
