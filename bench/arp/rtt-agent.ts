// Run inside a sandbox node (its network namespace): `node rtt-agent.js DEV IP WINDOW_MS COUNT`.
// Sends COUNT duplicate-address probes through the addon (the daemon's own code path,
// src/actions/native-net.ts), one after the other, and prints one JSON line: for each probe who
// answered, the ms from its send to the kernel's receipt of the answer (`kernelMs`) and the ms
// from just before it was sent until JS had the outcome (`ms`, our own scheduling included).
import { performance } from 'node:perf_hooks';
import { NativeNetwork } from '../../dist/actions/native-net';

async function main(): Promise<void> {
  const [dev, ip, windowMs, count] = process.argv.slice(2);
  const network = new NativeNetwork();
  const runs: Array<{ ms: number; kernelMs?: number; holders: string[] }> = [];
  try {
    for (let i = 0; i < Number(count); i++) {
      const t0 = performance.now();
      const r = await network.probeTimed(dev!, ip!, Number(windowMs));
      runs.push({ ms: performance.now() - t0, kernelMs: r.answeredAfterMs, holders: r.holders });
      // Spaced a little, as probes are in life (one per takeover), not back to back.
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    network.close();
  }
  console.log(JSON.stringify(runs));
}

void main();
