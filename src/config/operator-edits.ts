// An operator's edits of corosync.conf as the engine decided them (src/engine/operations.ts):
// nodelist keys (prio, replication, standby), `corolistener { maintenance }`, a node added or
// removed (with quorum.expected_votes kept equal to the votes where it is set), with the
// config_version decided. Minimal edits: every other line stays as it was.
import { ConfigError } from './config-error';
import { type ConfSection, type CorosyncConfDocument, lastEntry, parseCorosyncConf, sectionsAt, valueAt } from './corosync-conf-document';
import { replaceValue, setConfigVersionAbove, setNodeKey, setSectionKey } from './corosync-conf-edit';
import { parseCorosyncInteger } from './corosync-conf-rules';
import { nodeOf, nodeSections } from './corosync-conf-view';
import type { ConfigEdit } from '../engine/types';

/**
 * Whether `doc` already holds every edit (a retried or repeated step after the file was written:
 * the interpreter may run a step again when a newer plan carried it over).
 */
function alreadyApplied(doc: CorosyncConfDocument, edits: readonly ConfigEdit[]): boolean {
  const nodes = nodeSections(doc).map(nodeOf);
  return edits.every((e) => {
    if ('section' in e) return valueAt(doc, e.section, e.key)?.value === e.value;
    if ('addNode' in e) return nodes.some((n) => n.nodeid === e.addNode.nodeId && n.ringAddrs[0] === e.addNode.address);
    if ('removeNode' in e) return !nodes.some((n) => n.nodeid === e.removeNode);
    return nodes.find((n) => n.nodeid === e.nodeId)?.keys[e.key] === e.value;
  });
}

export function applyOperatorEdits(doc: CorosyncConfDocument, edits: readonly ConfigEdit[], version: number): CorosyncConfDocument {
  const current = parseCorosyncInteger(valueAt(doc, 'totem', 'config_version')?.value ?? '0', [0, Number.MAX_SAFE_INTEGER]) ?? 0;
  if (current >= version && alreadyApplied(doc, edits)) return doc;
  let out = doc;
  for (const e of edits) {
    if ('section' in e) out = setSectionKey(out, e.section, e.key, e.value);
    else if ('addNode' in e) out = addNode(out, e.addNode);
    else if ('removeNode' in e) out = removeNode(out, e.removeNode);
    else out = setNodeKey(out, e.nodeId, e.key, e.value);
  }
  return setConfigVersionAbove(out, BigInt(version));
}

function noNodelist(doc: CorosyncConfDocument): ConfigError {
  return new ConfigError({ file: doc.file, line: 1, column: 1, field: 'nodelist', detail: 'no nodelist with a node section to add to' });
}

/** A node section like the last one's (its indentation), after it; expected_votes + its vote. */
function addNode(doc: CorosyncConfDocument, n: { nodeId: number; address: string; prio?: number; replication?: boolean; name?: string }): CorosyncConfDocument {
  const sections = nodeSections(doc);
  const last = sections[sections.length - 1];
  if (last === undefined || last.closeLine === undefined) throw noNodelist(doc);
  const open = doc.lines[last.line]!;
  const indent = /^[ \t]*/.exec(open)![0];
  const firstChild = last.children[0];
  const inner = firstChild === undefined ? `${indent}\t` : /^[ \t]*/.exec(doc.lines[firstChild.line]!)![0];
  const eol = open.endsWith('\r') ? '\r' : '';
  const block = [
    `${indent}node {`,
    `${inner}ring0_addr: ${n.address}`,
    `${inner}nodeid: ${n.nodeId}`,
    ...(n.name === undefined ? [] : [`${inner}name: ${n.name}`]),
    ...(n.prio === undefined ? [] : [`${inner}prio: ${n.prio}`]),
    ...(n.replication === undefined ? [] : [`${inner}replication: ${n.replication ? 'on' : 'off'}`]),
    `${indent}}`,
  ].map((l) => l + eol);
  const lines = [...doc.lines];
  lines.splice(last.closeLine + 1, 0, ...block);
  return adjustExpectedVotes(parseCorosyncConf(lines.join('\n'), doc.file), 1);
}

function removeNode(doc: CorosyncConfDocument, nodeId: number): CorosyncConfDocument {
  const index = nodeSections(doc)
    .map(nodeOf)
    .findIndex((n) => n.nodeid === nodeId);
  const section: ConfSection | undefined = nodeSections(doc)[index];
  if (section === undefined || section.closeLine === undefined) throw new ConfigError({ file: doc.file, line: 1, column: 1, field: 'nodelist.node', detail: `no node with nodeid ${nodeId}` });
  const votes = parseCorosyncInteger(lastEntry(section, 'quorum_votes')?.value ?? '1', [0, 0xffffffff]) ?? 1;
  const lines = [...doc.lines];
  lines.splice(section.line, section.closeLine - section.line + 1);
  return adjustExpectedVotes(parseCorosyncConf(lines.join('\n'), doc.file), -votes);
}

/** quorum.expected_votes moved by `delta` where it is set (votequorum's expected count follows the nodelist). */
function adjustExpectedVotes(doc: CorosyncConfDocument, delta: number): CorosyncConfDocument {
  const entry = valueAt(doc, 'quorum', 'expected_votes');
  if (entry === undefined || sectionsAt(doc, 'quorum').length === 0) return doc;
  const current = parseCorosyncInteger(entry.value, [0, 0xffffffff]);
  if (current === undefined) return doc;
  return replaceValue(doc, entry, String(Math.max(1, current + delta)));
}
