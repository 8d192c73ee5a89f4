/**
 * A worker of `npm run sim --workers N`: runs the chunks of seeds the main thread hands it and
 * answers, per chunk, how many passed and the first violation. Each seed is independent and
 * deterministic, so splitting the seeds over workers changes nothing but the wall time.
 */
import { parentPort } from 'node:worker_threads';
import { runSeeds, type ChunkRequest } from './run-seeds.js';

const port = parentPort;
if (port === null) throw new Error('test/sim/worker.ts must run in a worker thread');
port.on('message', (req: ChunkRequest) => port.postMessage(runSeeds(req)));
