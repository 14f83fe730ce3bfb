// Bad configuration input: every malformed corosync.conf / vmmgr.conf of the corpus in
// test/fixtures/bad-input gives a clear error naming file:line:column and the field, nothing
// on disk changes (bytes and inode of the target, no temp or backup file left), and command
// directives that look like shell are kept as plain argv words that no shell ever sees.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigValidationError, MAX_CONFIG_FILE_BYTES, editCorosyncConf, parseCorosyncConf, raiseNodePrioAboveOthers, readCorosyncConf, readVmmgrConf, writeCorosyncConf } from '../../../src/config';
import { CommandFailedError, type CommandRunner, ExecCommandRunner } from '../../../src/actions/command-runner';
import { ServiceControl } from '../../../src/actions/service-control';
import { VmControl } from '../../../src/actions/vm-control';
import { Corolistener } from '../../../src/daemon/corolistener';
import { FakeCorosync, ManualClock, RecordingActions, captureLogger, testDirs } from '../daemon/fakes';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'bad-input');
const VALID = readFileSync(join(__dirname, '..', 'config', 'corpus', 'design-node-list.conf'));

interface Expected {
  readonly line: number;
  readonly field: string;
  readonly detail: RegExp;
}

/** The error each corpus file must produce (other errors may follow from the same fault). */
const COROSYNC_CASES: Record<string, Expected> = {
  'address-command-substitution.conf': { line: 39, field: 'nodelist.node[1].ring0_addr', detail: /address or a host name, got "\$\(id\)"/ },
  'address-with-shell.conf': { line: 45, field: 'nodelist.node[2].ring0_addr', detail: /got "172\.31\.224\.80; rm -rf \/"/ },
  'binary-garbage.conf': { line: 3, field: '(file)', detail: /not valid UTF-8/ },
  'config-version-negative.conf': { line: 4, field: 'totem.config_version', detail: /unsigned integer.*got "-1"/ },
  'config-version-overflow.conf': { line: 4, field: 'totem.config_version', detail: /got "18446744073709551616"/ },
  'config-version-word.conf': { line: 4, field: 'totem.config_version', detail: /got "twelve"/ },
  'duplicate-address.conf': { line: 45, field: 'nodelist.node[2].ring0_addr', detail: /duplicate address 172\.31\.224\.72 \(also on line 33\)/ },
  'duplicate-nodeid.conf': { line: 46, field: 'nodelist.node[2].nodeid', detail: /duplicate nodeid 9 \(also on line 40\)/ },
  'empty.conf': { line: 1, field: 'nodelist', detail: /no node sections/ },
  'expected-votes-fraction.conf': { line: 22, field: 'quorum.expected_votes', detail: /integer in 0\.\.4294967295, got "3\.0"/ },
  'garbage-line.conf': { line: 26, field: 'ihttpd', detail: /line is not "name \{", "key: value"/ },
  'key-with-shell.conf': { line: 36, field: 'nodelist.node[0].`id`', detail: /refuses the key name/ },
  'latin1-cluster-name.conf': { line: 3, field: '(file)', detail: /not valid UTF-8/ },
  'missing-section-name.conf': { line: 20, field: '(top level)', detail: /missing section name/ },
  'no-nodes.conf': { line: 30, field: 'nodelist', detail: /no node sections/ },
  'node-without-address.conf': { line: 38, field: 'nodelist.node[1].ring0_addr', detail: /missing: every node needs a ring0_addr/ },
  'node-without-nodeid.conf': { line: 38, field: 'nodelist.node[1].nodeid', detail: /missing: every node needs a nodeid/ },
  'nodeid-hex.conf': { line: 46, field: 'nodelist.node[2].nodeid', detail: /got "0x0d"/ },
  'nodeid-too-big-for-knet.conf': { line: 46, field: 'nodelist.node[2].nodeid', detail: /at most 65535 with the knet transport/ },
  'nodeid-zero.conf': { line: 46, field: 'nodelist.node[2].nodeid', detail: /must not be 0/ },
  'nul-byte.conf': { line: 41, field: 'nodelist.node[1]', detail: /NUL byte/ },
  'prio-exponent.conf': { line: 41, field: 'nodelist.node[1].prio', detail: /integer \(0 or more\), got "1e3"/ },
  'prio-negative.conf': { line: 41, field: 'nodelist.node[1].prio', detail: /got "-5"/ },
  'prio-word.conf': { line: 41, field: 'nodelist.node[1].prio', detail: /got "high"/ },
  'replication-yes.conf': { line: 36, field: 'nodelist.node[0].replication', detail: /must be on or off, got "yes"/ },
  'section-on-one-line.conf': { line: 25, field: '(top level)', detail: /extra characters after "\{"/ },
  'stray-close-brace.conf': { line: 15, field: '(top level)', detail: /unexpected "\}"/ },
  'token-overflow.conf': { line: 8, field: 'totem.token', detail: /got "4294967296"/ },
  'totem-version-3.conf': { line: 2, field: 'totem.version', detail: /must be 2/ },
  'truncated-after-open-brace.conf': { line: 31, field: 'nodelist', detail: /"nodelist" is never closed/ },
  'truncated-in-node.conf': { line: 38, field: 'nodelist.node[1]', detail: /"node" is never closed/ },
  'two-nodelists.conf': { line: 51, field: 'nodelist', detail: /second nodelist section \(first on line 31\)/ },
  'unclosed-logging.conf': { line: 13, field: 'logging', detail: /"logging" is never closed/ },
};

const VMMGR_CASES: Record<string, Expected> = {
  'binary-garbage.conf': { line: 5, field: '(file)', detail: /not valid UTF-8/ },
  'cloudip-command-substitution.conf': { line: 2, field: 'CloudIp', detail: /IPv4 address, got "\$\(id\)"/ },
  'cloudip-not-an-address.conf': { line: 2, field: 'CloudIp', detail: /got "198\.18\.0\.300"/ },
  'cloudip-with-shell.conf': { line: 2, field: 'CloudIp', detail: /got "198\.18\.0\.100;reboot"/ },
  'cloudipdev-path.conf': { line: 3, field: 'CloudIpDev', detail: /network interface name.*got "\.\.\/\.\.\/etc\/passwd"/ },
  'cloudipdev-too-long.conf': { line: 3, field: 'CloudIpDev', detail: /1-15 characters/ },
  'cloudmask-33.conf': { line: 4, field: 'CloudMask', detail: /got "33"/ },
  'cloudmask-holes.conf': { line: 4, field: 'CloudMask', detail: /got "255\.0\.255\.0"/ },
  'empty-command.conf': { line: 5, field: 'ServiceStartCommand', detail: /empty command/ },
  'nul-in-command.conf': { line: 5, field: 'ServiceStartCommand', detail: /NUL byte/ },
  'takeover-delay-exponent.conf': { line: 5, field: 'TakeoverDelay', detail: /got "1e3"/ },
  'takeover-delay-huge.conf': { line: 5, field: 'TakeoverDelay', detail: /got "99999999999"/ },
  'takeover-delay-negative.conf': { line: 5, field: 'TakeoverDelay', detail: /got "-5"/ },
  'truncated-multibyte.conf': { line: 5, field: '(file)', detail: /not valid UTF-8/ },
};

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'corolistener-bad-input-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function fixtureNames(kind: 'corosync' | 'vmmgr'): string[] {
  return readdirSync(join(FIXTURES, kind))
    .filter((n) => n.endsWith('.conf'))
    .sort();
}

/** The rejection of `promise`, which must be a ConfigValidationError. */
async function refusal(promise: Promise<unknown>): Promise<ConfigValidationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigValidationError);
  return error as ConfigValidationError;
}

/** Every error names file:line:column: field, and one of them is the expected one. */
function expectNamed(error: ConfigValidationError, file: string, expected: Expected): void {
  for (const e of error.errors) {
    expect(e.message).toBe(`${file}:${e.line}:${e.column}: ${e.field}: ${e.detail}`);
    expect(e.line).toBeGreaterThanOrEqual(1);
    expect(e.column).toBeGreaterThanOrEqual(1);
  }
  const match = error.errors.find((e) => e.line === expected.line && e.field === expected.field && expected.detail.test(e.detail));
  expect(match, `${file}: expected ${expected.line} ${expected.field} ${expected.detail} among\n${error.message}`).toBeDefined();
  expect(error.message).toContain(match!.message);
}

/** What a directory holds, byte for byte and inode for inode: nothing may change in it. */
function snapshot(directory: string): Record<string, { ino: number; bytes: string; mtimeMs: number }> {
  const out: Record<string, { ino: number; bytes: string; mtimeMs: number }> = {};
  for (const name of readdirSync(directory).sort()) {
    const path = join(directory, name);
    const st = statSync(path);
    out[name] = { ino: st.ino, mtimeMs: st.mtimeMs, bytes: st.isDirectory() ? '(directory)' : readFileSync(path).toString('base64') };
  }
  return out;
}

/** A directory holding a valid corosync.conf and its backup, as on a node. */
function nodeEtc(name: string): string {
  const etc = join(dir, name);
  mkdirSync(etc);
  writeFileSync(join(etc, 'corosync.conf'), VALID);
  writeFileSync(join(etc, 'corosync.conf.bak'), VALID);
  return etc;
}

describe('malformed corosync.conf', () => {
  it('the corpus and the table of expected errors list the same files', () => {
    expect(fixtureNames('corosync')).toEqual(Object.keys(COROSYNC_CASES).sort());
  });

  for (const name of fixtureNames('corosync')) {
    const expected = COROSYNC_CASES[name]!;
    it(`${name}: clear error at ${expected.line} ${expected.field}; nothing written`, async () => {
      const path = join(FIXTURES, 'corosync', name);
      const bytes = readFileSync(path);
      expectNamed(await refusal(readCorosyncConf(path)), path, expected);

      // Installing it over a valid file: refused before anything is written.
      const etc = nodeEtc(`write-${name}`);
      const target = join(etc, 'corosync.conf');
      const before = snapshot(etc);
      const text = bytes.toString('utf8');
      if (Buffer.from(text, 'utf8').equals(bytes)) {
        const error = await refusal(writeCorosyncConf(target, parseCorosyncConf(text, target), { corosyncCheck: 'auto' }));
        expectNamed(error, target, expected);
      }
      // The daemon's read-edit-write path (takeover: raise prio, bump config_version) on the bad file itself.
      writeFileSync(join(etc, 'installed.conf'), bytes);
      const installed = snapshot(etc);
      const edit = await refusal(editCorosyncConf(join(etc, 'installed.conf'), (doc) => raiseNodePrioAboveOthers(doc, 9).doc));
      expectNamed(edit, join(etc, 'installed.conf'), expected);
      expect(snapshot(etc)).toEqual(installed);
      delete installed['installed.conf'];
      expect(installed).toEqual(before);
    });
  }

  it('a huge file is refused after reading at most the limit, naming the line where the limit is crossed', async () => {
    const etc = nodeEtc('huge');
    // A 4 GiB sparse file: reading it whole would take seconds and gigabytes.
    const sparse = join(etc, 'sparse.conf');
    const fh = await open(sparse, 'w');
    await fh.truncate(4 * 1024 ** 3);
    await fh.close();
    const zeros = await refusal(readCorosyncConf(sparse));
    expectNamed(zeros, sparse, { line: 1, field: '(file)', detail: /larger than 1048576 bytes/ });

    // A valid configuration drowned in comments (a runaway generator).
    const padding = `# ${'x'.repeat(98)}\n`;
    const lines = Math.ceil((MAX_CONFIG_FILE_BYTES + 1) / padding.length);
    const drowned = join(etc, 'drowned.conf');
    writeFileSync(drowned, VALID.toString('utf8') + padding.repeat(lines));
    const validLines = VALID.toString('utf8').split('\n').length - 1;
    const crossing = validLines + Math.floor((MAX_CONFIG_FILE_BYTES - VALID.length) / padding.length) + 1;
    expectNamed(await refusal(readCorosyncConf(drowned)), drowned, { line: crossing, field: '(file)', detail: /larger than/ });

    // One enormous line in an otherwise valid file: refused as corosync would (fgets 512 bytes).
    const longLine = join(etc, 'long-line.conf');
    writeFileSync(longLine, VALID.toString('utf8').replace('cluster_name: VMmanager', `cluster_name: ${'V'.repeat(100_000)}`));
    expectNamed(await refusal(readCorosyncConf(longLine)), longLine, { line: 3, field: 'totem', detail: /line too long \(100015 bytes/ });
  });
});

describe('malformed vmmgr.conf', () => {
  it('the corpus and the table of expected errors list the same files (plus the injection file)', () => {
    expect(fixtureNames('vmmgr')).toEqual([...Object.keys(VMMGR_CASES), 'injection-commands.conf'].sort());
  });

  for (const [name, expected] of Object.entries(VMMGR_CASES)) {
    it(`${name}: clear error at ${expected.line} ${expected.field}`, async () => {
      const path = join(FIXTURES, 'vmmgr', name);
      expectNamed(await refusal(readVmmgrConf(path)), path, expected);
    });
  }

  it('a huge vmmgr.conf is refused without reading it whole', async () => {
    const path = join(dir, 'huge-vmmgr.conf');
    const fh = await open(path, 'w');
    await fh.truncate(2 * 1024 ** 3);
    await fh.close();
    expectNamed(await refusal(readVmmgrConf(path)), path, { line: 1, field: '(file)', detail: /larger than/ });
  });
});

describe('command directives that look like shell', () => {
  const CANARY = '/tmp/corolistener-bad-input-canary';
  const context = { role: 'master' as const, nodeId: 7 };

  it('are kept as plain argv words', async () => {
    const conf = await readVmmgrConf(join(FIXTURES, 'vmmgr', 'injection-commands.conf'));
    expect(conf.serviceStartCommand).toEqual(['/bin/echo', ';', 'rm', '-rf', '/']);
    expect(conf.serviceStopCommand).toEqual(['/bin/echo', '$(id)', '`id`', '${HOME}']);
    expect(conf.vmSuspendCommand).toEqual(['/bin/echo', '&&', 'touch', CANARY]);
    expect(conf.vmResumeCommand).toEqual(['/bin/echo', '|', 'tee', CANARY, '>', CANARY]);
    expect(conf.nodeFailedCommand).toEqual([';reboot']);
  });

  it('run through the real runner, no shell interprets them', async () => {
    const conf = await readVmmgrConf(join(FIXTURES, 'vmmgr', 'injection-commands.conf'));
    rmSync(CANARY, { force: true });
    // Belt and braces: PATH points at an empty directory, so even a regression that ran these
    // through a shell could not find rm, touch, tee, id or reboot. The programs run are absolute.
    const emptyPath = mkdtempSync(join(dir, 'empty-path-'));
    const exec = new ExecCommandRunner();
    const runner: CommandRunner = { run: (argv, options) => exec.run(argv, { ...options, env: { ...options?.env, PATH: emptyPath } }) };
    const service = new ServiceControl({
      runner,
      startCommand: conf.serviceStartCommand,
      stopCommand: conf.serviceStopCommand,
      nodeFailedCommand: conf.nodeFailedCommand,
    });
    const vms = new VmControl({ runner, suspendCommand: conf.vmSuspendCommand, resumeCommand: conf.vmResumeCommand });

    // echo prints its arguments verbatim: what a shell would have consumed is still there.
    expect((await service.start(context)).stdout).toBe('; rm -rf /\n');
    expect((await service.stop(context)).stdout).toBe('$(id) `id` ${HOME}\n');
    const suspended = await vms.suspendRunning(context);
    expect(suspended.via === 'command' && suspended.result.stdout).toBe(`&& touch ${CANARY}\n`);
    const resumed = await vms.resume(['vm1'], context);
    // The VMs to resume are its last arguments (the VM command contract, issue 15).
    expect(resumed.via === 'command' && resumed.result.stdout).toBe(`| tee ${CANARY} > ${CANARY} vm1\n`);
    expect(existsSync(CANARY)).toBe(false);

    // ";reboot" is a program name that does not exist, not a command separator.
    const failed = await service.nodeFailed(context).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(CommandFailedError);
    expect((failed as CommandFailedError).result.spawnError).toMatch(/ENOENT/);
    expect((failed as CommandFailedError).retryable).toBe(false);
  });
});

describe('a daemon given a bad configuration', () => {
  const cases = [
    ...Object.entries(COROSYNC_CASES).map(([name, expected]) => ({ kind: 'corosync' as const, name, expected })),
    ...Object.entries(VMMGR_CASES).map(([name, expected]) => ({ kind: 'vmmgr' as const, name, expected })),
  ];

  for (const { kind, name, expected } of cases) {
    it(`${kind}/${name}: refuses to start, names the problem, takes no action and writes nothing`, async () => {
      const dirs = testDirs([
        { id: 2, prio: 99 },
        { id: 4, prio: 100 },
      ]);
      try {
        const bad = join(FIXTURES, kind, name);
        const path = kind === 'corosync' ? dirs.corosyncConf : dirs.vmmgrConf;
        writeFileSync(path, readFileSync(bad));
        const corosync = new FakeCorosync(4);
        const actions = new RecordingActions();
        const { logger } = captureLogger();
        const before = snapshot(dirs.root);
        const daemon = new Corolistener({
          corosyncConf: dirs.corosyncConf,
          vmmgrConf: dirs.vmmgrConf,
          stateDir: dirs.stateDir,
          logger,
          corosync,
          actions,
          clock: new ManualClock(),
          corosyncCheck: 'off',
        });
        const error = await refusal(daemon.start());
        expectNamed(error, path, expected);
        await daemon.stop();
        expect(corosync.attempts).toBe(0);
        expect(actions.calls).toEqual([]);
        expect(snapshot(dirs.root)).toEqual(before);
        expect(readdirSync(dirs.stateDir)).toEqual([]);
      } finally {
        dirs.cleanup();
      }
    });
  }
});
