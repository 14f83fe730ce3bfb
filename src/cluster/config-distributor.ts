// Cluster-wide distribution of corosync.conf over CPG (issue 6; protocol in
// docs/config-update.md). One instance per daemon; every side effect is injected (send, read,
// install, reload, timers, log), so the state machine is unit-tested without corosync.
//
//   publisher (the master)               every other member
//   config.offer {v, sha, content} --->  v < own: ignore (logged), refuse-ack
//                                        v = own, same sha: ack ok (already installed)
//                                        v = own, other sha: conflict (below), refuse-ack + hello
//                                        v > own: validate + corosync -t + atomic write, ack
//   all current members acked, or the deadline passed: Cfg.reloadConfig() (cluster-wide)
//   a member refused or missed it: the offer is repeated with backoff (1 s doubling to 30 s)
//   while that member is in the group and not known to hold the version
//
// Two different files with the same version (two takeovers that both wrote v+1, an operator
// edit): never settled by comparing digests, which could drop the sitting master's raise.
// Nothing is installed; every node that sees it (in an offer or a hello) reports it to its
// engine (`onConflict`, with the sender's role, master and since), and the engine of the master
// raises again with a higher version, which every member installs; of two masters the one
// master longest does (src/engine, resolveConflict). Versions only grow: an offer older than the
// installed file never changes anything.
//
// Rejoin: every member announces its file with config.hello whenever someone joins; a member
// holding a newer file that is the designated publisher answers with an offer; a member holding
// an older one answers with its own hello, so a joiner that is the newest learns it must push.
import type { ConfigAck, ConfigHello, ConfigMessage, ConfigOffer, SenderRole, SenderSide } from './config-messages';
import { CONFIG_ACK, CONFIG_HELLO, CONFIG_OFFER } from './config-messages';

/** The corosync.conf installed on this node. */
export interface LocalConfig {
  version: bigint;
  sha256: string;
  content: string;
}

/** The subset of pino's Logger the distributor uses. */
export interface DistributorLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A member holds another file with our config_version (an offer or a hello said so). */
export interface ConfigConflictReport {
  from: number;
  version: bigint;
  ourSha256: string;
  theirSha256: string;
  /** The sender's role and the master it named when it sent the message. */
  peerRole: SenderRole;
  peerMaster: number | null;
  peerSince: number | null;
}

export interface ConfigDistributorDeps {
  localNodeId: number;
  /** Multicast to the CPG group (agreed order); our own messages are delivered back to us. */
  send(msg: ConfigMessage): Promise<void>;
  /** The file installed now (read from disk every time: the file is the truth). */
  readLocal(): Promise<LocalConfig>;
  /**
   * Validate (our parser + `corosync -t`) and install atomically with a backup; throws, naming
   * what is wrong, if the content is invalid or its config_version is not `version`.
   */
  install(content: string, version: bigint): Promise<void>;
  /** Cfg.reloadConfig(): every node's corosync re-reads its file. */
  reload(): void | Promise<void>;
  setTimer(ms: number, fn: () => void): () => void;
  log: DistributorLog;
  /** How long the publisher waits for acks before reloading anyway (default 10 s). */
  ackTimeoutMs?: number;
  /** Re-offer to members that refused or missed a round: first delay and cap (default 1 s, 30 s). */
  retryBackoff?: { initialMs: number; maxMs: number };
  /**
   * Whether this node pushes its file to an older member. The daemon answers with the engine's
   * view (this node is master, or with no master the lowest nodeid holding the newest version);
   * undefined (or no function) falls back to the same rule over the versions this distributor
   * has heard of.
   */
  isPublisher?(): boolean | undefined;
  /** After a new file is installed (the daemon re-reads it into the engine). */
  onInstalled?(config: LocalConfig): void;
  /**
   * A peer proved (signed offer, hello or positive ack) which version it holds. The daemon
   * feeds it to the engine as a configVersions event: until the cluster-wide reload, cmap still
   * shows the old version for peers that already have the new file, and a member that just
   * installed the master's file must not take the master for stale and elect itself.
   */
  onPeerVersion?(nodeId: number, version: bigint): void;
  /** This node's engine role and the master it names, sent in offers and hellos (default unknown / null). */
  localSide?(): SenderSide;
  /** A same-version conflict: the daemon feeds it to the engine, which decides who raises. */
  onConflict?(conflict: ConfigConflictReport): void;
}

export interface DistributionRound {
  version: bigint;
  sha256: string;
  waiting: ReadonlySet<number>;
  refused: ReadonlyMap<number, string>;
}

interface OpenRound {
  version: bigint;
  sha256: string;
  waiting: Set<number>;
  refused: Map<number, string>;
  cancelTimer: () => void;
}

export const DEFAULT_ACK_TIMEOUT_MS = 10_000;
/** A transient refusal (ENOSPC, a `corosync -t` timeout) is retried soon, a lasting one rarely. */
export const DEFAULT_RETRY_BACKOFF = { initialMs: 1_000, maxMs: 30_000 } as const;

/** The next offer to members that refused or missed the one of `version`. */
interface PendingRetry {
  version: bigint;
  laggards: Set<number>;
  delayMs: number;
  cancelTimer: () => void;
}

/**
 * Whether file a replaces file b: only a higher version does. Two files with the same version
 * and other content are a conflict the master settles with a higher version, never a digest.
 */
export function supersedes(a: { version: bigint }, b: { version: bigint }): boolean {
  return a.version > b.version;
}

export class ConfigDistributor {
  private members = new Set<number>();
  /** Versions members announced (hello), offered or acknowledged: for the default publisher rule. */
  private readonly known = new Map<number, { version: bigint; sha256: string }>();
  private round: OpenRound | undefined;
  private retry: PendingRetry | undefined;
  // Messages, publishes and membership changes are handled one at a time, in arrival order:
  // each step reads the file and may write it.
  private queue: Promise<void> = Promise.resolve();
  private readonly ackTimeoutMs: number;

  constructor(private readonly deps: ConfigDistributorDeps) {
    this.ackTimeoutMs = deps.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.members.add(deps.localNodeId);
  }

  /** The round this node is publishing, if any (for status and tests). */
  get pending(): DistributionRound | undefined {
    const r = this.round;
    return r && { version: r.version, sha256: r.sha256, waiting: new Set(r.waiting), refused: new Map(r.refused) };
  }

  /** Resolves when everything queued so far has been handled. */
  idle(): Promise<void> {
    return this.queue;
  }

  /**
   * Multicast the installed file to the group (the engine's `publishConfig {configVersion}`).
   * Resolves once the offer is sent; the reload follows the acks or the deadline. Rejects when
   * the file is older than `minVersion` or the send failed (the daemon's runner retries).
   */
  publish(minVersion?: bigint): Promise<void> {
    return this.enqueue(() => this.doPublish(minVersion), true);
  }

  /**
   * Runs `edit` (a local read-edit-write of corosync.conf, e.g. the daemon's raisePriority) with
   * no install of a peer's file in between, so neither write loses the other.
   */
  exclusive<T>(edit: () => Promise<T>): Promise<T> {
    let result: T;
    return this.enqueue(async () => {
      result = await edit();
    }, true).then(() => result);
  }

  /** A CPG message, already decoded and validated by the codec, with the sender CPG reported. */
  onMessage(senderNodeId: number, msg: ConfigMessage): Promise<void> {
    if (msg.body.from !== senderNodeId) {
      this.deps.log.warn(
        { from: senderNodeId, code: 'sender-mismatch', type: msg.type, claimedFrom: msg.body.from, error: 'sender nodeid differs from the one CPG reports' },
        'cluster message rejected',
      );
      return Promise.resolve();
    }
    return this.enqueue(async () => {
      switch (msg.type) {
        case CONFIG_OFFER:
          return this.onOffer(msg.body);
        case CONFIG_ACK:
          return this.onAck(msg.body);
        case CONFIG_HELLO:
          return this.onHello(msg.body);
      }
    });
  }

  /**
   * CPG membership (confchg): nodeids of the current members and of those that joined. When
   * anyone joined, this node announces its file (config.hello).
   */
  onMembership(members: readonly number[], joined: readonly number[] = []): Promise<void> {
    return this.enqueue(async () => {
      this.members = new Set(members);
      this.members.add(this.deps.localNodeId);
      for (const id of [...this.known.keys()]) if (!this.members.has(id)) this.known.delete(id);
      const r = this.round;
      if (r) {
        for (const id of [...r.waiting]) if (!this.members.has(id)) r.waiting.delete(id);
        if (r.waiting.size === 0) await this.finishRound('every remaining member acknowledged');
      }
      // Announce our file whenever someone joined: after a partition heals, each side sees the
      // other as the joiners, so the member that must receive the newest file may be any of us.
      if (joined.length > 0) await this.sendHello();
    });
  }

  /** Runs `step` after every earlier one; a failure is logged (and, with `propagate`, rethrown). */
  private enqueue(step: () => Promise<void>, propagate = false): Promise<void> {
    const run = this.queue.then(step);
    const logged = run.catch((err: unknown) => {
      this.deps.log.error({ err }, 'config distribution step failed');
    });
    this.queue = logged;
    return propagate ? run : logged;
  }

  private async doPublish(minVersion?: bigint): Promise<void> {
    const local = await this.deps.readLocal();
    if (minVersion !== undefined && local.version < minVersion) {
      throw new Error(`cannot publish config_version ${minVersion}: the installed file has ${local.version}`);
    }
    this.known.set(this.deps.localNodeId, local);
    // This offer reaches every member: a pending re-offer is moot (the round decides anew).
    this.retry?.cancelTimer();
    if (this.round) {
      this.round.cancelTimer();
      this.deps.log.info({ version: local.version.toString(), superseded: this.round.version.toString() }, 'config round superseded by a newer publish');
    }
    const waiting = new Set([...this.members].filter((id) => id !== this.deps.localNodeId));
    const round: OpenRound = {
      version: local.version,
      sha256: local.sha256,
      waiting,
      refused: new Map(),
      cancelTimer: () => {},
    };
    this.round = round;
    round.cancelTimer = this.deps.setTimer(this.ackTimeoutMs, () => {
      void this.enqueue(async () => {
        if (this.round === round) await this.finishRound('ack deadline passed');
      });
    });
    this.deps.log.info({ version: local.version.toString(), sha256: local.sha256, waiting: [...waiting] }, 'publishing corosync.conf');
    await this.deps.send({
      type: CONFIG_OFFER,
      body: { version: local.version, sha256: local.sha256, content: local.content, from: this.deps.localNodeId, ...this.side() },
    });
    if (waiting.size === 0) await this.finishRound('no other member');
  }

  private async finishRound(why: string): Promise<void> {
    const r = this.round;
    if (!r) return;
    this.round = undefined;
    r.cancelTimer();
    const fields = { version: r.version.toString(), why, missing: [...r.waiting], refused: Object.fromEntries(r.refused) };
    if (r.waiting.size > 0 || r.refused.size > 0) this.deps.log.warn(fields, 'reloading corosync.conf without every member having installed it');
    else this.deps.log.info(fields, 'reloading corosync.conf cluster-wide');
    this.scheduleRetry(r.version, [...r.waiting, ...r.refused.keys()]);
    await this.deps.reload();
  }

  /**
   * Members that refused or missed the round of `version` get the offer again, with backoff,
   * within the same ring: otherwise a transient failure (ENOSPC, a `corosync -t` timeout) would
   * leave their file stale until the next membership change (nothing else re-offers).
   */
  private scheduleRetry(version: bigint, laggards: number[]): void {
    const previous = this.retry;
    previous?.cancelTimer();
    this.retry = undefined;
    const waiting = new Set(laggards.filter((id) => this.lagging(id, version)));
    if (waiting.size === 0) return;
    const backoff = this.deps.retryBackoff ?? DEFAULT_RETRY_BACKOFF;
    const delayMs = previous?.version === version ? Math.min(previous.delayMs * 2, backoff.maxMs) : backoff.initialMs;
    const retry: PendingRetry = { version, laggards: waiting, delayMs, cancelTimer: () => {} };
    this.retry = retry;
    this.deps.log.warn({ version: version.toString(), members: [...waiting], inMs: delayMs }, 'offering corosync.conf again to members that refused or missed it');
    retry.cancelTimer = this.deps.setTimer(delayMs, () => {
      void this.enqueue(async () => {
        if (this.retry !== retry || this.round) return;
        const local = await this.deps.readLocal();
        const still = [...retry.laggards].filter((id) => this.lagging(id, local.version));
        if (local.version !== version || still.length === 0) {
          this.retry = undefined;
          return;
        }
        await this.doPublish();
        // doPublish cancelled the timer; the new round's end schedules the next try (doubled).
        this.retry = { ...retry, cancelTimer: () => {} };
      });
    });
  }

  /** A member of the group that is not known to hold `version` (or later) yet. */
  private lagging(id: number, version: bigint): boolean {
    return id !== this.deps.localNodeId && this.members.has(id) && !((this.known.get(id)?.version ?? -1n) >= version);
  }

  private async onOffer(offer: ConfigOffer): Promise<void> {
    if (offer.from === this.deps.localNodeId) return; // our own offer delivered back
    this.heard(offer.from, offer);
    const local = await this.deps.readLocal();
    const fields = { from: offer.from, offered: offer.version.toString(), installed: local.version.toString() };
    if (offer.version < local.version) {
      this.deps.log.warn(fields, 'config offer ignored: older than the installed file');
      return this.ack(offer, false, `older than the installed config_version ${local.version}`);
    }
    if (offer.version === local.version) {
      if (offer.sha256 === local.sha256) return this.ack(offer, true);
      this.conflict(offer, local);
      await this.ack(offer, false, `conflict: another file with config_version ${local.version} is installed here (sha256 ${local.sha256}); waiting for a higher version`);
      // Our file and side, so that the publisher sees the conflict too.
      return this.sendHello(local);
    }
    try {
      await this.deps.install(offer.content, offer.version);
    } catch (err) {
      this.deps.log.error({ ...fields, err }, 'config offer refused: invalid here, nothing written');
      return this.ack(offer, false, (err as Error).message.slice(0, 1000));
    }
    // Someone else's newer file is installed: our own open round is moot (its publisher reloads).
    if (this.round && this.round.version <= offer.version) {
      this.round.cancelTimer();
      this.round = undefined;
    }
    const installed = { version: offer.version, sha256: offer.sha256, content: offer.content };
    this.known.set(this.deps.localNodeId, installed);
    this.deps.log.info({ ...fields, sha256: offer.sha256 }, 'installed corosync.conf from a peer');
    this.deps.onInstalled?.(installed);
    return this.ack(offer, true);
  }

  private async ack(offer: ConfigOffer, ok: boolean, error?: string): Promise<void> {
    const body: ConfigAck = { version: offer.version, sha256: offer.sha256, from: this.deps.localNodeId, ok };
    if (error !== undefined) body.error = error;
    await this.deps.send({ type: CONFIG_ACK, body });
  }

  private async onAck(ack: ConfigAck): Promise<void> {
    if (ack.ok) this.heard(ack.from, ack);
    const r = this.round;
    if (!r || ack.version !== r.version || ack.sha256 !== r.sha256 || !r.waiting.has(ack.from)) return;
    r.waiting.delete(ack.from);
    if (!ack.ok) {
      r.refused.set(ack.from, ack.error ?? 'refused');
      this.deps.log.warn({ from: ack.from, version: ack.version.toString(), error: ack.error }, 'member refused the configuration');
    }
    if (r.waiting.size === 0) await this.finishRound('every member answered');
  }

  private async onHello(hello: ConfigHello): Promise<void> {
    if (hello.from === this.deps.localNodeId) return;
    this.heard(hello.from, hello);
    const local = await this.deps.readLocal();
    this.known.set(this.deps.localNodeId, local);
    if (hello.version === local.version && hello.sha256 !== local.sha256) this.conflict(hello, local);
    if (supersedes(local, hello) && this.isPublisher()) {
      const r = this.round;
      // The open round's offer of this very file was sent while the sender was a member, so CPG
      // delivers it there after this hello (virtual synchrony); a member that refuses it is
      // offered it again when the round ends. Several joins at once bring several hellos from
      // every older member: one offer, not one per hello.
      if (r && r.version === local.version && r.sha256 === local.sha256 && r.waiting.has(hello.from)) return;
      this.deps.log.info({ from: hello.from, theirs: hello.version.toString(), ours: local.version.toString() }, 'member joined with an older corosync.conf: pushing ours');
      await this.doPublish();
    } else if (supersedes(hello, local)) {
      // Tell the newer joiner (and everyone) what we hold, so its publisher can push to us.
      await this.sendHello(local);
    }
  }

  private heard(nodeId: number, file: { version: bigint; sha256: string }): void {
    this.known.set(nodeId, { version: file.version, sha256: file.sha256 });
    if (nodeId !== this.deps.localNodeId) this.deps.onPeerVersion?.(nodeId, file.version);
  }

  /** Logged loudly and handed to the engine, which decides who raises (nothing installed here). */
  private conflict(peer: ConfigOffer | ConfigHello, local: LocalConfig): void {
    const c: ConfigConflictReport = { from: peer.from, version: local.version, ourSha256: local.sha256, theirSha256: peer.sha256, peerRole: peer.role, peerMaster: peer.master, peerSince: peer.since };
    this.deps.log.error(
      { from: c.from, version: c.version.toString(), ourSha256: c.ourSha256, theirSha256: c.theirSha256, peerRole: c.peerRole, peerMaster: c.peerMaster, peerSince: c.peerSince },
      'CONFLICT: a member holds another corosync.conf with the same config_version; the master raises again with a higher version, nothing installed',
    );
    this.deps.onConflict?.(c);
  }

  private side(): SenderSide {
    return this.deps.localSide?.() ?? { role: 'unknown', master: null, since: null };
  }

  private isPublisher(): boolean {
    const injected = this.deps.isPublisher?.();
    if (injected !== undefined) return injected;
    // The lowest nodeid among the members holding the newest known version.
    let best: { id: number; version: bigint } | undefined;
    for (const [id, v] of this.known) {
      if (!this.members.has(id)) continue;
      if (!best || supersedes(v, best) || (v.version === best.version && id < best.id)) best = { id, version: v.version };
    }
    return best?.id === this.deps.localNodeId;
  }

  private async sendHello(local?: LocalConfig): Promise<void> {
    const l = local ?? (await this.deps.readLocal());
    this.known.set(this.deps.localNodeId, l);
    await this.deps.send({ type: CONFIG_HELLO, body: { version: l.version, sha256: l.sha256, from: this.deps.localNodeId, ...this.side() } });
  }
}
