// `-l` without a daemon: build the NodeListReport from corosync itself (cmap nodelist, quorum
// members, prio/replication keys). Needs the corosync binding (src/corosync), which is being
// built separately; until it lands this fails with a clear message instead of guessing.
import type { NodeListReport } from '../daemon/report';
import { notImplemented } from './not-implemented';

export async function readNodeListFromCorosync(corosyncConf: string, socket: string): Promise<NodeListReport> {
  void corosyncConf;
  return notImplemented(`no corolistener daemon answers on ${socket}, and reading the node list straight from corosync`);
}
