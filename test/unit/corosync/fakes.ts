// Fake native classes for the TS layer's unit tests: they record calls, let a test make any
// method throw a chosen cs_error_t a number of times, and fire events through the captured emit.
import type {
  CmapValue,
  CpgAddress,
  NativeCfg,
  NativeCmap,
  NativeCmapEvents,
  NativeCpg,
  NativeCpgEvents,
  NativeEmit,
  NativeQuorum,
  NativeQuorumEvents,
  NativeVotequorum,
  NativeVotequorumInfo,
} from '../../../src/corosync/bindings';
import { CorosyncError } from '../../../src/corosync/errors';
import type { CsErrorCode } from '../../../src/corosync/errors';

class FakeBase<Events> {
  readonly calls: string[] = [];
  closeCount = 0;
  referenced = true;
  readonly #failures = new Map<string, CsErrorCode[]>();

  constructor(readonly emit: NativeEmit<Events>) {}

  /** The next `times` calls of `method` throw CorosyncError(code). */
  failNext(method: string, code: CsErrorCode, times = 1): void {
    const queue = this.#failures.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(code);
    this.#failures.set(method, queue);
  }

  protected record(method: string): void {
    this.calls.push(method);
    const code = this.#failures.get(method)?.shift();
    if (code !== undefined) throw new CorosyncError(code, method);
  }

  close(): void {
    this.closeCount++;
  }
  ref(): void {
    this.referenced = true;
  }
  unref(): void {
    this.referenced = false;
  }
}

/** Keeps every instance a wrapper constructs, so tests can reach the fake behind it. */
function registry<T>(): { instances: T[]; last(): T } {
  const instances: T[] = [];
  return {
    instances,
    last() {
      const instance = instances.at(-1);
      if (instance === undefined) throw new Error('no fake constructed yet');
      return instance;
    },
  };
}

export const quorums = registry<FakeQuorum>();
export class FakeQuorum extends FakeBase<NativeQuorumEvents> implements NativeQuorum {
  isQuorate = true;
  constructor(emit: NativeEmit<NativeQuorumEvents>) {
    super(emit);
    quorums.instances.push(this);
  }
  quorate(): boolean {
    this.record('quorate');
    return this.isQuorate;
  }
}

export const cpgs = registry<FakeCpg>();
export class FakeCpg extends FakeBase<NativeCpgEvents> implements NativeCpg {
  readonly sent: Buffer[] = [];
  memberList: CpgAddress[] = [];
  constructor(
    readonly groupName: string,
    emit: NativeEmit<NativeCpgEvents>,
  ) {
    super(emit);
    cpgs.instances.push(this);
  }
  join(): void {
    this.record('join');
  }
  leave(): void {
    this.record('leave');
  }
  mcast(data: Buffer): void {
    this.record('mcast');
    this.sent.push(data);
  }
  members(): CpgAddress[] {
    this.record('members');
    return this.memberList;
  }
  localNodeId(): number {
    this.record('localNodeId');
    return 2;
  }
}

export const cmaps = registry<FakeCmap>();
export class FakeCmap extends FakeBase<NativeCmapEvents> implements NativeCmap {
  readonly store = new Map<string, CmapValue>();
  readonly tracks = new Map<number, string>();
  #nextTrack = 1;
  constructor(emit: NativeEmit<NativeCmapEvents>) {
    super(emit);
    cmaps.instances.push(this);
  }
  get(key: string): CmapValue | undefined {
    this.record('get');
    return this.store.get(key);
  }
  entries(prefix: string): Array<[string, CmapValue]> {
    this.record('entries');
    return [...this.store].filter(([key]) => key.startsWith(prefix));
  }
  trackAdd(prefix: string): number {
    this.record('trackAdd');
    const id = this.#nextTrack++;
    this.tracks.set(id, prefix);
    return id;
  }
  trackDelete(trackId: number): void {
    this.record('trackDelete');
    this.tracks.delete(trackId);
  }
}

export const cfgs = registry<FakeCfg>();
export class FakeCfg extends FakeBase<{ disconnect: CorosyncError }> implements NativeCfg {
  reloads = 0;
  constructor(emit: NativeEmit<{ disconnect: CorosyncError }>) {
    super(emit);
    cfgs.instances.push(this);
  }
  localNodeId(): number {
    this.record('localNodeId');
    return 3;
  }
  reloadConfig(): void {
    this.record('reloadConfig');
    this.reloads++;
  }
}

export const votequorums = registry<FakeVotequorum>();
export class FakeVotequorum extends FakeBase<{ disconnect: CorosyncError }> implements NativeVotequorum {
  readonly asked: number[] = [];
  flags = 2;
  constructor(emit: NativeEmit<{ disconnect: CorosyncError }>) {
    super(emit);
    votequorums.instances.push(this);
  }
  info(nodeId: number): NativeVotequorumInfo {
    this.record('info');
    this.asked.push(nodeId);
    return {
      nodeId: nodeId === 0 ? 1 : nodeId,
      nodeState: 1,
      nodeVotes: 1,
      nodeExpectedVotes: 3,
      highestExpected: 3,
      totalVotes: 2,
      quorum: 2,
      flags: this.flags,
      qdeviceVotes: 0,
      qdeviceName: '',
    };
  }
}

/** A constructor that fails `times` times with `code` before delegating to `Real`. */
export function failingConstructor<A extends unknown[], T>(Real: new (...args: A) => T, code: CsErrorCode, times: number): { ctor: new (...args: A) => T; attempts: () => number } {
  let attempts = 0;
  class Failing {
    constructor(...args: A) {
      attempts++;
      if (attempts <= times) throw new CorosyncError(code, 'initialize');
      return new Real(...args) as object;
    }
  }
  return { ctor: Failing as unknown as new (...args: A) => T, attempts: () => attempts };
}
