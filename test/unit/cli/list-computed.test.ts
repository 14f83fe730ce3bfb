// `-l` with no daemon reads corosync itself and computes the roles (issue 17): a note on stderr
// says they are computed, not held by a daemon; the table on stdout stays the documented one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import type { NodeListReport } from '../../../src/daemon/report';

const COMPUTED: NodeListReport = {
  cluster: { name: 'VMmanager', quorate: true, configVersion: 5, expectedVotes: 3 },
  localNodeId: 2,
  masterNodeId: 4,
  nodes: [
    { id: 2, ip: '198.18.0.2', status: 'joined', role: 'S', priority: 99, replication: true },
    { id: 4, ip: '198.18.0.4', status: 'joined', role: 'M', priority: 100, replication: true },
  ],
};

vi.mock('../../../src/cli/corosync-node-list', () => ({ readNodeListFromCorosync: vi.fn(async () => COMPUTED) }));

const dir = mkdtempSync(join(tmpdir(), 'corolistener-computed-'));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('-l without a daemon: the table on stdout, a note on stderr that the roles are computed', async () => {
  const { main } = await import('../../../src/cli/main');
  const { formatNodeTable } = await import('../../../src/cli/node-table');
  let stdout = '';
  let stderr = '';
  const code = await main(['-l', '--socket', join(dir, 'none.sock')], { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: {} });
  expect({ code, stdout, stderr }).toEqual({
    code: 0,
    stdout: formatNodeTable(COMPUTED),
    stderr: 'corolistener: note: no daemon answered: the M/S roles are computed from the members and priorities, not held by a running daemon\n',
  });
});
