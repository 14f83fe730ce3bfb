// The benchmark's side of bench/cost/listener-instrument.ts (preloaded into the listeners):
// the environment that loads it, and reading what it and V8's --trace-gc print into the
// daemon's output.log.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SandboxListener } from '../../dist/sandbox';

export const INSTRUMENT_PREFIX = 'bench-instrument ';

/** process.memoryUsage() and V8's code statistics right after a full GC (bytes), on SIGUSR2. */
export interface MemoryLine {
  kind: 'memory';
  /** Wall-clock ms when measured. */
  atMs: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Of heapUsed: compiled code and its metadata (v8.getHeapCodeStatistics()). */
  codeAndMetadata: number;
  /** Of heapUsed: bytecode and its metadata. */
  bytecodeAndMetadata: number;
  /** v8.getHeapSpaceStatistics() after the GC: committed (size) and resident (physical) bytes per space. */
  spaces?: Record<string, { size: number; physical: number }>;
}

export interface OriginLine {
  kind: 'gc-origin';
  /** Wall-clock ms of the process's time origin: --trace-gc's "N ms:" count from about here. */
  timeOriginMs: number;
}

/** One garbage collection from V8's --trace-gc. */
export interface GcEvent {
  /** Wall clock, ms (the trace's time since V8 started plus the process's time origin). */
  atMs: number;
  /** e.g. "Scavenge", "Mark-Compact", "Mark-Compact (reduce)" (the memory reducer's). */
  kind: string;
}

export interface InstrumentOutput {
  memory: MemoryLine[];
  gcs: GcEvent[];
}

/** The listener environment that preloads the instrument (with V8's GC trace or not). */
export function instrumentedListenerEnv(opts: { traceGc: boolean }): NodeJS.ProcessEnv {
  return {
    NODE_OPTIONS: `--require ${join(__dirname, 'listener-instrument.js')}`,
    BENCH_INSTRUMENT_TRACE_GC: opts.traceGc ? '1' : '0',
  };
}

const GC_LINE = /^\[\d+:0x[0-9a-f]+\]\s+(\d+(?:\.\d+)?) ms: ([A-Za-z][A-Za-z ()-]*?) \d/;

/** Reads the instrument's lines and the GC trace out of a listener's output.log text. */
export function parseInstrumentOutput(text: string): InstrumentOutput {
  const memory: MemoryLine[] = [];
  const gcs: GcEvent[] = [];
  let originMs: number | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith(INSTRUMENT_PREFIX)) {
      const parsed = JSON.parse(line.slice(INSTRUMENT_PREFIX.length)) as MemoryLine | OriginLine;
      if (parsed.kind === 'memory') memory.push(parsed);
      else originMs = parsed.timeOriginMs;
      continue;
    }
    const m = GC_LINE.exec(line);
    if (m && originMs !== null) gcs.push({ atMs: originMs + Number(m[1]), kind: m[2]! });
  }
  return { memory, gcs };
}

export function readInstrumentOutput(listener: SandboxListener): InstrumentOutput {
  return parseInstrumentOutput(readFileSync(listener.hostPath('output'), 'utf8'));
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Asks the listener's instrument for a full GC and its memory usage (SIGUSR2) and waits for the answer. */
export async function memoryAfterGc(listener: SandboxListener, timeoutMs = 10_000): Promise<MemoryLine> {
  const pid = listener.pid;
  if (pid === null) throw new Error(`the listener on ${listener.node.name} is not running:\n${listener.diagnostics()}`);
  const before = readInstrumentOutput(listener).memory.length;
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = readInstrumentOutput(listener).memory;
    if (lines.length > before) return lines.at(-1)!;
    if (Date.now() > deadline) throw new Error(`the listener on ${listener.node.name} did not report its memory within ${timeoutMs} ms (is bench/cost/listener-instrument.js preloaded?)`);
    await delay(50);
  }
}
