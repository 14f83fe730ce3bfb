// Minimal edits of a corosync.conf document: each edit rewrites only the value on the one line
// it concerns (or adds one line when the key is absent), keeping indentation, separators,
// trailing blanks and "\r". The result is re-parsed from its text, so tree and text agree.

import { ConfigError, ConfigValidationError } from './config-error';
import { type ConfEntry, type ConfSection, type CorosyncConfDocument, lastEntry, parseCorosyncConf, sectionsAt, valueAt } from './corosync-conf-document';
import { raisedPriority } from '../engine/election';
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
  const matches = nodeSections(doc)
    .map(nodeOf)
    .filter((n) => n.nodeid === nodeid);
  if (matches.length !== 1) {
    throw new ConfigError({
      file: doc.file,
      line: 1,
      column: 1,
      field: 'nodelist.node',
      detail: matches.length === 0 ? `no node with nodeid ${nodeid}` : `${matches.length} nodes have nodeid ${nodeid}`,
    });
  }
  return nodeSections(doc)[matches[0]!.index]!;
}

/** Set one key of node `nodeid`'s nodelist entry (replaced in place, or added as its last line). */
export function setNodeKey(doc: CorosyncConfDocument, nodeid: number, key: string, value: string): CorosyncConfDocument {
  requireParsable(doc);
  const node = findNode(doc, nodeid);
  const entry = lastEntry(node, key);
  return entry ? replaceValue(doc, entry, value) : appendEntry(doc, node, key, value);
}

/** Set `key` in the top-level section `name` (the section is added at the end of the file when absent). */
export function setSectionKey(doc: CorosyncConfDocument, name: string, key: string, value: string): CorosyncConfDocument {
  requireParsable(doc);
  const section = sectionsAt(doc, name)[0];
  if (section !== undefined) {
    const entry = lastEntry(section, key);
    return entry ? replaceValue(doc, entry, value) : appendEntry(doc, section, key, value);
  }
  const lines = [...doc.lines];
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  lines.push('', `${name} {`, `\t${key}: ${value}`, '}', '');
  return withLines(doc, lines);
}

/**
 * totem.config_version set to `version`, which must be above the file's (an operator's edit, as
 * the engine decided it); a file already at `version` or later changed since the decision and is
 * not written over (`retryable: false`).
 */
export function setConfigVersionAbove(doc: CorosyncConfDocument, version: bigint): CorosyncConfDocument {
  const { entry, current } = configVersionOf(doc);
  if (current >= version) {
    throw Object.assign(
      new ConfigError({
        file: doc.file,
        line: (entry?.line ?? 0) + 1,
        column: (entry?.valueStart ?? 0) + 1,
        field: 'totem.config_version',
        detail: `already ${current}, not below ${version} as decided: the file changed since; not written`,
      }),
      { retryable: false },
    );
  }
  if (version > UINT64_MAX) throw new RangeError(`config_version ${version} is above the uint64 maximum`);
  return setConfigVersion(doc, entry, version);
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
      file: doc.file,
      line: entry.line + 1,
      column: entry.valueStart + 1,
      field: entry.field,
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
      file: doc.file,
      line: e.line + 1,
      column: e.valueStart + 1,
      field: e.field,
      detail: 'cannot bump: at the uint64 maximum',
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
 * An operator's takeover edit: make node `nodeid` outrank every other node (the engine's rule:
 * prio = 1 + the highest prio of the others that have one) and bump config_version, so a returning old
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
  const own = parseUnsigned(lastEntry(node, 'prio')?.value, Number.MAX_SAFE_INTEGER);
  // The engine's rule (src/engine/election.ts raisedPriority), so a takeover and this edit agree.
  const nodes = nodeSections(doc)
    .map(nodeOf)
    .flatMap((n) => (n.nodeid === undefined ? [] : [{ nodeId: n.nodeid, ip: '', prio: n.prio, replication: true }]));
  const target = raisedPriority({ configVersion: 0, nodes, takeoverDelayMs: 0 }, nodeid);
  const versionReached = minVersion === undefined || configVersionOf(doc).current >= minVersion;
  if (target === null && own !== undefined && versionReached) return { doc, prio: own, changed: false };
  const prio = target ?? own ?? 1;
  const raised = prio === own ? doc : setNodePrio(doc, nodeid, prio);
  return { doc: bumpConfigVersion(raised, minVersion), prio, changed: true };
}

/**
 * The engine's raisePriority, written as decided: node `nodeid`'s prio and totem.config_version
 * (the engine chose both: docs/engine.md, "Claimed versions"; no second rule here). A file that
 * already has `version` or later with that prio is left as it is (a retried edit). A file at
 * `version` or later with another prio moved on since the decision (a newer file installed): it
 * is not written over, the error says so, and the engine decides again from the file it re-reads.
 */
export function writeRaisedPriority(doc: CorosyncConfDocument, nodeid: number, prio: number, version: bigint): PrioRaise {
  requireParsable(doc);
  const node = findNode(doc, nodeid);
  const prioEntry = lastEntry(node, 'prio');
  const own = prioEntry === undefined ? undefined : parseUnsigned(prioEntry.value, Number.MAX_SAFE_INTEGER);
  // A retried edit: the file has it already. Otherwise setConfigVersionAbove refuses a file that
  // moved past the decided version (the same refusal as an operator's edit).
  if (own === prio && configVersionOf(doc).current >= version) return { doc, prio, changed: false };
  const withPrio = own === prio ? doc : setNodePrio(doc, nodeid, prio);
  return { doc: setConfigVersionAbove(withPrio, version), prio, changed: true };
}
