import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { readNodeListFromCorosync, type CorosyncSnapshot } from '../../../src/cli/corosync-node-list';
import { CliError } from '../../../src/cli/io';
import { formatNodeTable } from '../../../src/cli/node-table';
import { testDirs, type TestDirs } from './fakes';

let dirs: TestDirs | undefined;
afterEach(() => dirs?.cleanup());

const snapshot = (s: CorosyncSnapshot) => async () => s;

describe('-l straight from corosync', () => {
  it('builds the report from the quorum state, cmap versions and corosync.conf, electing like the engine', async () => {
    dirs = testDirs([
      { id: 7, prio: 100 },
      { id: 9, prio: 40 },
      { id: 13, prio: 10 },
    ]);
    const report = await readNodeListFromCorosync(dirs.corosyncConf, '/nonexistent.sock', 1000, snapshot({ localNodeId: 9, quorate: true, members: [7, 9, 13], versions: { 7: 1, 9: 1, 13: 1 } }));
    expect(report.masterNodeId).toBe(7);
    expect(report.cluster).toEqual({ name: 'VMmanager', quorate: true, configVersion: 1, expectedVotes: 3 });
    expect(formatNodeTable(report).split('\n').slice(3, 6)).toEqual([
      '          7       198.18.0.7    joined             M       100',
      '          9       198.18.0.9    joined             S        40',
      '         13      198.18.0.13    joined             S        10',
    ]);
  });

  it('a member with an older config version is not master; no master without quorum', async () => {
    dirs = testDirs([
      { id: 7, prio: 100 },
      { id: 9, prio: 40 },
      { id: 13, prio: 10 },
    ]);
    const stale = await readNodeListFromCorosync(dirs.corosyncConf, '/x.sock', 1000, snapshot({ localNodeId: 9, quorate: true, members: [7, 9], versions: { 7: 0, 9: 1 } }));
    expect(stale.masterNodeId).toBe(9);
    expect(stale.nodes.map((n) => `${n.id}:${n.status}:${n.role}`)).toEqual(['7:joined:S', '9:joined:M', '13:left:-']);
    const minority = await readNodeListFromCorosync(dirs.corosyncConf, '/x.sock', 1000, snapshot({ localNodeId: 9, quorate: false, members: [9], versions: { 9: 1 } }));
    expect(minority.masterNodeId).toBeNull();
    expect(minority.nodes.map((n) => n.role)).toEqual(['-', '-', '-']);
  });

  it("this node stale or a member's version unknown: no master named, as the engine decides (nameMaster)", async () => {
    dirs = testDirs([
      { id: 7, prio: 100 },
      { id: 9, prio: 40 },
      { id: 13, prio: 10 },
    ]);
    // Our file is version 1 and node 7 has 2: our table may be out of date, the engine names nobody.
    const stale = await readNodeListFromCorosync(dirs.corosyncConf, '/x.sock', 1000, snapshot({ localNodeId: 9, quorate: true, members: [7, 9, 13], versions: { 7: 2, 9: 1, 13: 2 } }));
    expect(stale.masterNodeId).toBeNull();
    expect(stale.nodes.map((n) => n.role)).toEqual(['-', '-', '-']);
    // Node 13's version not in cmap yet: the engine waits for it before naming anyone.
    const unknown = await readNodeListFromCorosync(dirs.corosyncConf, '/x.sock', 1000, snapshot({ localNodeId: 9, quorate: true, members: [7, 9, 13], versions: { 7: 1, 9: 1 } }));
    expect(unknown.masterNodeId).toBeNull();
  });

  it('a config_version above 2^53-1 is refused with the file and field named, never rounded', async () => {
    dirs = testDirs([{ id: 7, prio: 100 }]);
    writeFileSync(dirs.corosyncConf, readFileSync(dirs.corosyncConf, 'utf8').replace('config_version: 1', 'config_version: 9007199254740993'));
    const err = await readNodeListFromCorosync(dirs.corosyncConf, '/x.sock', 1000, snapshot({ localNodeId: 7, quorate: true, members: [7], versions: { 7: 1 } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).toContain(`${dirs.corosyncConf}: totem.config_version 9007199254740993 is above 9007199254740991`);
  });

  it('corosync not reachable: one clear error, exit code 3', async () => {
    dirs = testDirs([{ id: 7, prio: 100 }]);
    const err = await readNodeListFromCorosync(dirs.corosyncConf, '/x.sock', 1000, async () => {
      throw new Error('CS_ERR_LIBRARY');
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(3);
    expect((err as CliError).message).toBe('no corolistener daemon answers on /x.sock, and corosync cannot be read: CS_ERR_LIBRARY');
  });
});
