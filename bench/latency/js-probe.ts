// The JS side of the latency benchmark: corolistener's Quorum handle in a process of its own,
// printing, for every 'quorum' event, the time the listener was called (the first statement of
// the handler) in the same line format as bench/c/quorum-probe.c.
//   node .bench-out/bench/latency/js-probe.js      (run inside a sandbox node's netns)
import { performance } from 'node:perf_hooks';
import { Quorum } from '../../dist/corosync/quorum';
import { formatQuorumLine } from '../lib/quorum-line';

const quorum = new Quorum();
quorum.on('quorum', (e) => {
  const monoNs = process.hrtime.bigint(); // CLOCK_MONOTONIC
  const realNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  process.stdout.write(formatQuorumLine({ monoNs, realNs, quorate: e.quorate, ringNodeId: e.ringId.nodeId, ringSeq: e.ringId.seq, members: e.members }) + '\n');
});
quorum.on('disconnect', (err) => {
  process.stderr.write(`js-probe: corosync went away: ${err.message}\n`);
  process.exitCode = 1;
});
const stop = (): void => quorum.close();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdout.write('ready\n');
