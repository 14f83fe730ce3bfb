// An operator's edits of corosync.conf as the engine decided them (src/engine/operations.ts):
// nodelist keys (prio, replication, standby) and `corolistener { maintenance }`, with the
// config_version decided. Minimal edits: every other line stays as it was.
import type { CorosyncConfDocument } from './corosync-conf-document';
import { setConfigVersionAbove, setNodeKey, setSectionKey } from './corosync-conf-edit';
import type { ConfigEdit } from '../engine/types';

export function applyOperatorEdits(doc: CorosyncConfDocument, edits: readonly ConfigEdit[], version: number): CorosyncConfDocument {
  let out = doc;
  for (const e of edits) out = 'section' in e ? setSectionKey(out, e.section, e.key, e.value) : setNodeKey(out, e.nodeId, e.key, e.value);
  return setConfigVersionAbove(out, BigInt(version));
}
