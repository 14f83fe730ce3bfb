// Minimal edits of a corosync.conf document: each edit rewrites only the value on the one line
// it concerns (or adds one line when the key is absent), keeping indentation, separators,
// trailing blanks and "\r". The result is re-parsed from its text, so tree and text agree.

import { ConfigError, ConfigValidationError } from './config-error';
import {
  type ConfEntry, type ConfSection, type CorosyncConfDocument, lastEntry, parseCorosyncConf, sectionsAt,
  valueAt,
} from './corosync-conf-document';
import { UINT64_MAX, nodeOf, nodeSections, parseConfigVersion, parseUnsigned } from './corosync-conf-view';

function withLines(doc: CorosyncConfDocument, lines: string[]): CorosyncConfDocument {
  return parseCorosyncConf(lines.join('\n'), doc.file);
}

function requireParsable(doc: CorosyncConfDocument): void {
  if (doc.syntaxErrors.length > 0) throw new ConfigValidationError(doc.syntaxErrors);
}

/** Replace the value of one entry, leaving the rest of its line as it was. */
export function replaceValue(doc: CorosyncConfDocument, entry: ConfEntry, value: string): CorosyncConfDocument {
  if (/[\r\n]/.test(value)) throw new Error(`${entry.field}: a value cannot contain a line break`);
  const raw = doc.lines[entry.line]!;
  const lines = [...doc.lines];
  lines[entry.line] = raw.slice(0, entry.valueStart) + value + raw.slice(entry.valueStart + entry.value.length);
  return withLines(doc, lines);
}

/** Add `key: value` as the last entry line of a section, indented like its other entries. */
export function appendEntry(doc: CorosyncConfDocument, section: ConfSection, key: string, value: string): CorosyncConfDocument {
  const entries = section.children.filter((c): c is ConfEntry => c.kind === 'entry');
  const anchor = entries.length > 0 ? entries[entries.length - 1]!.line : section.line;
  const anchorRaw = doc.lines[anchor]!;
  const indent = /^[ \t]*/.exec(anchorRaw)![0] + (entries.length > 0 ? '' : '\t');
  const eol = anchorRaw.endsWith('\r') ? '\r' : '';
  const lines = [...doc.lines];
  lines.splice(anchor + 1, 0, `${indent}${key}: ${value}${eol}`);
  return withLines(doc, lines);
}

function findNode(doc: CorosyncConfDocument, nodeid: number): ConfSection {
  const matches = nodeSections(doc).map(nodeOf).filter((n) => n.nodeid === nodeid);
  if (matches.length !== 1) {
    throw new ConfigError({
      file: doc.file, line: 1, column: 1, field: 'nodelist.node',
      detail: matches.length === 0 ? `no node with nodeid ${nodeid}` : `${matches.length} nodes have nodeid ${nodeid}`,
    });
  }
  return nodeSections(doc)[matches[0]!.index]!;
}

export function setNodePrio(doc: CorosyncConfDocument, nodeid: number, prio: number): CorosyncConfDocument {
  requireParsable(doc);
  if (!Number.isSafeInteger(prio) || prio < 0) throw new RangeError(`prio must be an integer 0 or more, got ${prio}`);
  const node = findNode(doc, nodeid);
  const entry = lastEntry(node, 'prio');
  return entry ? replaceValue(doc, entry, String(prio)) : appendEntry(doc, node, 'prio', String(prio));
}

/** The config_version entry and its value (absent: 0, as corosync reads it). */
function configVersionOf(doc: CorosyncConfDocument): { entry: ConfEntry | undefined; current: bigint } {
  requireParsable(doc);
  const entry = valueAt(doc, 'totem', 'config_version');
  if (!entry) return { entry, current: 0n };
  const current = parseConfigVersion(entry.value);
  if (current === undefined) {
    throw new ConfigError({
      file: doc.file, line: entry.line + 1, column: entry.valueStart + 1, field: entry.field,
      detail: `cannot bump: not an unsigned integer: "${entry.value}"`,
    });
  }
  return { entry, current };
}

/** Set totem.config_version (added to totem when absent). */
function setConfigVersion(doc: CorosyncConfDocument, entry: ConfEntry | undefined, version: bigint): CorosyncConfDocument {
  if (entry) return replaceValue(doc, entry, String(version));
  const totem = sectionsAt(doc, 'totem')[0];
  if (!totem) throw new ConfigError({ file: doc.file, line: 1, column: 1, field: 'totem', detail: 'no totem section' });
  return appendEntry(doc, totem, 'config_version', String(version));
}

/**
 * config_version + 1 (or `config_version: 1` added to totem when absent); with `atLeast`, the
 * higher of that and `atLeast` (a version claimed elsewhere is skipped, see docs/engine.md).
 */
export function bumpConfigVersion(doc: CorosyncConfDocument, atLeast?: bigint): CorosyncConfDocument {
  const { entry, current } = configVersionOf(doc);
  if (current === UINT64_MAX) {
    const e = entry as ConfEntry;
    throw new ConfigError({
      file: doc.file, line: e.line + 1, column: e.valueStart + 1, field: e.field, detail: 'cannot bump: at the uint64 maximum',
    });
  }
  const next = atLeast !== undefined && atLeast > current + 1n ? atLeast : current + 1n;
  if (next > UINT64_MAX) throw new RangeError(`config_version ${next} is above the uint64 maximum`);
  return setConfigVersion(doc, entry, next);
}

export interface PrioRaise {
  readonly doc: CorosyncConfDocument;
  /** The node's prio afterwards. */
  readonly prio: number;
  /** False when the node already outranked every other node: then nothing was edited. */
  readonly changed: boolean;
}

/**
 * The takeover edit: make node `nodeid` outrank every other node (prio = 1 + the highest prio
 * of the others; nodes without prio count as 0) and bump config_version, so a returning old
 * master does not take the role back. When the node already outranks all others the document
 * is returned unchanged: raising again would only inflate prio on every restart.
 *
 * `minVersion` (the engine's raisePriority configVersion): the written config_version is at
 * least this. It skips a version another node may have written (a claimed version), and lets
 * a master that already outranks everyone re-raise past a same-version conflict: then only the
 * version changes. A file already at `minVersion` or above is left as it is (a retried edit).
 */
export function raiseNodePrioAboveOthers(doc: CorosyncConfDocument, nodeid: number, minVersion?: bigint): PrioRaise {
  requireParsable(doc);
  const node = findNode(doc, nodeid);
  const prioOf = (s: ConfSection): number => parseUnsigned(lastEntry(s, 'prio')?.value, Number.MAX_SAFE_INTEGER) ?? 0;
  const others = nodeSections(doc).filter((s) => s !== node);
  const target = others.reduce((max, s) => Math.max(max, prioOf(s) + 1), 1);
  const own = lastEntry(node, 'prio') ? prioOf(node) : undefined;
  const outranks = own !== undefined && own >= target;
  const versionReached = minVersion === undefined || configVersionOf(doc).current >= minVersion;
  if (outranks && versionReached) return { doc, prio: own, changed: false };
  const raised = outranks ? doc : setNodePrio(doc, nodeid, target);
  return { doc: bumpConfigVersion(raised, minVersion), prio: outranks ? own : target, changed: true };
}

