// How fast corosync finds a failed node, from the totem timers of a corosync.conf, and the fast
// detection profile corolistener supports (issue 16). corosync's own failure detection is most
// of a failover: at its defaults (token 1000 ms, token_coefficient 650 ms per node above two,
// consensus 1.2 x token) a 3-node cluster forms the new membership ~3.5 s after a node dies;
// corolistener's part after that is tens of milliseconds. The fast profile trades nothing of
// the membership's safety (virtual synchrony, quorum) for speed; what it needs is a LAN whose
// nodes are never stalled longer than the token, which its soak proves under CPU and I/O load
// (BENCHMARKS.md, "Fast detection profile"). Pure.

import { lastEntry, sectionsAt, valueAt, type CorosyncConfDocument } from './corosync-conf-document';
import { RING_ADDR_KEY } from './corosync-conf-view';

export interface TotemTimers {
  /** totem.token: how long without the token before a node is declared lost. */
  readonly tokenMs: number;
  /** totem.token_coefficient: added to the token for every node above two. */
  readonly tokenCoefficientMs: number;
  /**
   * totem.token_retransmits_before_loss_const: corosync refuses a token whose retransmit time,
   * token / (this + 0.2), is under 30 ms, so a 100 ms token needs 3 (its default, 4, needs 130).
   */
  readonly tokenRetransmitsBeforeLoss: number;
  /** totem.consensus: how long the survivors wait to agree on the new membership (corosync: at least 1.2 x token). */
  readonly consensusMs: number;
  /** totem.interface.knet_ping_interval and knet_ping_timeout, on every link. */
  readonly knetPingIntervalMs: number;
  readonly knetPingTimeoutMs: number;
}

/**
 * The fast detection profile. token 100 with no per-node coefficient keeps detection the same
 * for 3 or 16 nodes; 3 token retransmits (one fewer than corosync's default) is what corosync
 * requires of a 100 ms token; consensus is corosync's minimum, 1.2 x token. knet's link pings are made
 * slower than the token on purpose: with one link per node (a VMmanager cluster's default) the
 * token is what detects a failure, and a knet timeout below the token would turn a short
 * stall of knet's threads into a link down, then a wait for pongs, then a membership change. A
 * cluster with redundant links wants the opposite (knet must switch links before the token is
 * lost), which this profile does not cover: `config check` says so.
 */
export const FAST_DETECTION: TotemTimers = { tokenMs: 100, tokenCoefficientMs: 0, tokenRetransmitsBeforeLoss: 3, consensusMs: 120, knetPingIntervalMs: 200, knetPingTimeoutMs: 1000 };

/** The totem lines of the profile, as the README shows them. */
export function fastDetectionConf(): string {
  const p = FAST_DETECTION;
  return [
    'totem {',
    `  token: ${p.tokenMs}`,
    `  token_coefficient: ${p.tokenCoefficientMs}`,
    `  token_retransmits_before_loss_const: ${p.tokenRetransmitsBeforeLoss}`,
    `  consensus: ${p.consensusMs}`,
    '  interface {',
    '    linknumber: 0',
    `    knet_ping_interval: ${p.knetPingIntervalMs}`,
    `    knet_ping_timeout: ${p.knetPingTimeoutMs}`,
    '  }',
    '}',
  ].join('\n');
}

/** corosync's defaults (corosync.conf(5)). */
const COROSYNC_DEFAULT_TOKEN_MS = 1000;
const COROSYNC_DEFAULT_TOKEN_COEFFICIENT_MS = 650;
const COROSYNC_DEFAULT_JOIN_MS = 50;

export interface DetectionVerdict {
  /** fast: exactly the profile; default: no totem timer set; custom: anything else. */
  readonly profile: 'fast' | 'default' | 'custom';
  /** The token timeout corosync uses for this node count (token + coefficient x (nodes - 2)). */
  readonly effectiveTokenMs: number;
  readonly consensusMs: number;
  /** token + consensus + join: roughly how long after a failure the survivors have their new membership. */
  readonly detectionMs: number;
  /** Settings that differ from the profile ("token 1000 (profile: 100)"), empty for the profile itself. */
  readonly differences: readonly string[];
  /** More than one knet link: the profile's knet timers do not suit redundant links. */
  readonly redundantLinks: boolean;
}

function intAt(doc: CorosyncConfDocument, section: string, key: string): number | undefined {
  const e = valueAt(doc, section, key);
  if (e === undefined) return undefined;
  const n = Number(e.value.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** The detection a corosync.conf gives, and how it compares with the fast profile. */
export function detectionOf(doc: CorosyncConfDocument): DetectionVerdict {
  const token = intAt(doc, 'totem', 'token');
  const coefficient = intAt(doc, 'totem', 'token_coefficient');
  const consensus = intAt(doc, 'totem', 'consensus');
  const retransmits = intAt(doc, 'totem', 'token_retransmits_before_loss_const');
  const join = intAt(doc, 'totem', 'join') ?? COROSYNC_DEFAULT_JOIN_MS;
  const nodes = sectionsAt(doc, 'nodelist.node');
  const interfaces = sectionsAt(doc, 'totem.interface');
  // corosync keeps the last of a repeated key, as lastEntry does.
  const pings = interfaces.map((s) => ({ interval: lastEntry(s, 'knet_ping_interval'), timeout: lastEntry(s, 'knet_ping_timeout') }));
  const linkCount = Math.max(1, ...nodes.map((n) => n.children.filter((c) => c.kind === 'entry' && RING_ADDR_KEY.test(c.key)).length));

  const effectiveTokenMs = (token ?? COROSYNC_DEFAULT_TOKEN_MS) + (coefficient ?? COROSYNC_DEFAULT_TOKEN_COEFFICIENT_MS) * Math.max(0, nodes.length - 2);
  const consensusMs = consensus ?? Math.round(1.2 * effectiveTokenMs);
  const p = FAST_DETECTION;
  const differences: string[] = [];
  const compare = (name: string, value: number | undefined, want: number) => {
    if (value !== want) differences.push(`${name} ${value ?? 'unset'} (profile: ${want})`);
  };
  compare('token', token, p.tokenMs);
  compare('token_coefficient', coefficient, p.tokenCoefficientMs);
  compare('token_retransmits_before_loss_const', retransmits, p.tokenRetransmitsBeforeLoss);
  compare('consensus', consensus, p.consensusMs);
  const pingValue = (which: 'interval' | 'timeout') => {
    const values = new Set(pings.map((x) => (x[which] === undefined ? undefined : Number(x[which].value.trim()))));
    return values.size === 1 ? [...values][0] : undefined;
  };
  compare('knet_ping_interval', pingValue('interval'), p.knetPingIntervalMs);
  compare('knet_ping_timeout', pingValue('timeout'), p.knetPingTimeoutMs);
  const noneSet = token === undefined && coefficient === undefined && consensus === undefined && retransmits === undefined && pings.every((x) => x.interval === undefined && x.timeout === undefined);
  const profile = differences.length === 0 ? 'fast' : noneSet ? 'default' : 'custom';
  return { profile, effectiveTokenMs, consensusMs, detectionMs: effectiveTokenMs + consensusMs + join, differences, redundantLinks: linkCount > 1 };
}

/** One line for `config check`: which profile, and about how long detection takes. */
export function describeDetection(v: DetectionVerdict): string {
  const about = `a failed node is out of the membership about ${(v.detectionMs / 1000).toFixed(2)} s after it fails (token ${v.effectiveTokenMs} ms + consensus ${v.consensusMs} ms + join)`;
  if (v.profile === 'fast') return `detection: the fast profile: ${about}`;
  const hint = `the fast detection profile (README, "Fast detection") gets it to about ${((FAST_DETECTION.tokenMs + FAST_DETECTION.consensusMs + COROSYNC_DEFAULT_JOIN_MS) / 1000).toFixed(2)} s`;
  if (v.profile === 'default') return `detection: corosync's defaults: ${about}; ${hint}`;
  return `detection: custom timers (${v.differences.join(', ')}): ${about}; ${hint}`;
}
