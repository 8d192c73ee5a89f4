import { fakeClock } from '../../../src/util/clock.js';
import { fakeDataPath } from '../../../src/vmac/fake-datapath.js';
import { dataPathContract } from '../../contract/datapath.contract.js';

dataPathContract('in-memory fake', () => {
  const clock = fakeClock();
  return Promise.resolve({
    port: fakeDataPath(() => clock.nowMs()),
    elapse: (ms) => Promise.resolve(clock.advance(ms)),
    cleanup: () => undefined,
  });
});
