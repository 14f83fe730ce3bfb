// Preloaded into the benchmarked listeners (`NODE_OPTIONS=--require <this file>`, see
// instrumentedListenerEnv in ./instrument) to see inside V8 without changing the daemon:
//   - BENCH_INSTRUMENT_TRACE_GC=1: V8's --trace-gc, one line per garbage collection on the
//     daemon's stdout (its output.log), plus the origin of their times; the idle benchmark
//     matches the event loop's wake-ups against them (V8 runs GCs, including its memory
//     reducer's, on the main thread).
//   - always: on SIGUSR2, a full GC (gc() of --expose-gc), then process.memoryUsage() and V8's
//     code statistics as one line on stdout; the soak reads the heap in use after GC next to
//     RSS (RSS alone cannot tell a leak from a heap V8 has not shrunk yet), split into the
//     program's data and the code V8 compiled (which grows while more functions get hot).
// It adds no timer and no handle that wakes the loop: the signal handler runs only when the
// benchmark sends SIGUSR2 (after its idle window), and --trace-gc writes within the GC itself.
// The variables are removed from the environment, so the commands the daemon spawns (node
// scripts of the fake VMmanager) do not load it.
import { writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { getHeapCodeStatistics, getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { INSTRUMENT_PREFIX, type MemoryLine, type OriginLine } from './instrument';

function print(line: MemoryLine | OriginLine): void {
  writeSync(1, `${INSTRUMENT_PREFIX}${JSON.stringify(line)}\n`);
}

function install(): void {
  const traceGc = process.env.BENCH_INSTRUMENT_TRACE_GC === '1';
  delete process.env.BENCH_INSTRUMENT_TRACE_GC;
  delete process.env.NODE_OPTIONS;
  if (traceGc) {
    setFlagsFromString('--trace-gc');
    print({ kind: 'gc-origin', timeOriginMs: performance.timeOrigin });
  }
  // gc() without starting node with --expose-gc: the flag makes V8 install it in new contexts.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  process.on('SIGUSR2', () => {
    gc();
    const code = getHeapCodeStatistics();
    print({
      kind: 'memory',
      atMs: Date.now(),
      ...process.memoryUsage(),
      codeAndMetadata: code.code_and_metadata_size,
      bytecodeAndMetadata: code.bytecode_and_metadata_size,
      // Committed and resident bytes per V8 space: whether the young generation (new_space) or
      // the old one holds the resident heap the GC left.
      spaces: Object.fromEntries(getHeapSpaceStatistics().map((sp) => [sp.space_name, { size: sp.space_size, physical: sp.physical_space_size }])),
    });
  });
}

install();
