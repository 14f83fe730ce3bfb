import { describe, expect, it } from 'vitest';
import { DAEMON_OPTION_SPECS, DEFAULT_QUERY_TIMEOUT_MS, helpText, parseCommandLine, UsageError } from '../../../src/cli/options';

const DEFAULTS = {
  corosyncConf: '/etc/corosync/corosync.conf',
  keyFile: '/etc/corosync/authkey',
  vmmgrConf: '/usr/local/mgr5/etc/vmmgr.conf',
  log: '/usr/local/mgr5/var/corolistener.log',
  lockDir: '/tmp',
  stateDir: '/usr/local/mgr5/var/corolistener',
  socket: '/run/corolistener.sock',
};

function usageError(argv: string[], env: Record<string, string> = {}): UsageError {
  try {
    parseCommandLine(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error(`expected a usage error for ${JSON.stringify(argv)}`);
}

describe('corolistener run options', () => {
  it('has the documented defaults', () => {
    expect(parseCommandLine(['run'], {})).toEqual({ name: 'run', options: DEFAULTS });
  });

  it('reads every option from its environment variable, and flags win over the environment', () => {
    const env = {
      COROLISTENER_COROSYNC_CONF: '/e/corosync.conf',
      COROLISTENER_VMMGR_CONF: '/e/vmmgr.conf',
      COROLISTENER_LOG: '/e/log',
      COROLISTENER_LOCK_DIR: '/e/lock',
      COROLISTENER_STATE_DIR: '/e/state',
      COROLISTENER_SOCKET: '/e/sock',
      COROLISTENER_KEY: '/e/key',
    };
    expect(parseCommandLine(['run'], env)).toEqual({
      name: 'run',
      options: { corosyncConf: '/e/corosync.conf', keyFile: '/e/key', vmmgrConf: '/e/vmmgr.conf', log: '/e/log', lockDir: '/e/lock', stateDir: '/e/state', socket: '/e/sock' },
    });
    const flagged = parseCommandLine(['run', '--log', '/f/log', '--socket=/f/sock', '--corosync-conf', '/f/c.conf'], env);
    expect(flagged).toEqual({
      name: 'run',
      options: { corosyncConf: '/f/c.conf', keyFile: '/e/key', vmmgrConf: '/e/vmmgr.conf', log: '/f/log', lockDir: '/e/lock', stateDir: '/e/state', socket: '/f/sock' },
    });
  });

  it('treats an empty environment variable as unset and resolves relative paths', () => {
    const cmd = parseCommandLine(['run', '--state-dir', 'rel/state'], { COROLISTENER_LOG: '' });
    expect(cmd).toMatchObject({ options: { log: DEFAULTS.log, stateDir: `${process.cwd()}/rel/state` } });
  });

  it('rejects unknown options, missing values, empty values and stray arguments', () => {
    expect(usageError(['run', '--bogus']).message).toContain("'--bogus'");
    expect(usageError(['run', '--log']).message).toContain('--log');
    expect(usageError(['run', '--log=']).message).toBe('--log must not be empty');
    expect(usageError(['run', 'extra']).message).toBe('unexpected argument "extra"');
    expect(usageError(['run', '--bogus']).topic).toBe('run');
  });

  it('documents every option with its default and environment variable in the help', () => {
    const help = helpText('run');
    for (const spec of DAEMON_OPTION_SPECS) {
      expect(help).toContain(`--${spec.flag} PATH`);
      expect(help).toContain(`[${spec.default}] env ${spec.env}`);
    }
  });
});

describe('corolistener -l', () => {
  const list = { name: 'list', json: false, socket: DEFAULTS.socket, corosyncConf: DEFAULTS.corosyncConf, timeoutMs: DEFAULT_QUERY_TIMEOUT_MS };

  it('accepts -l, --list and the list command, with --json, --socket and --timeout in any order', () => {
    expect(parseCommandLine(['-l'], {})).toEqual(list);
    expect(parseCommandLine(['--list'], {})).toEqual(list);
    expect(parseCommandLine(['list'], {})).toEqual(list);
    expect(parseCommandLine(['--json', '-l', '--socket', '/tmp/s.sock', '--timeout', '250'], {})).toEqual({
      ...list,
      json: true,
      socket: '/tmp/s.sock',
      timeoutMs: 250,
    });
  });

  it('takes the socket from COROLISTENER_SOCKET', () => {
    expect(parseCommandLine(['-l'], { COROLISTENER_SOCKET: '/x.sock' })).toMatchObject({ socket: '/x.sock' });
  });

  it('rejects bad timeouts and unknown options', () => {
    expect(usageError(['-l', '--timeout', '0']).message).toContain('--timeout must be a number of milliseconds');
    expect(usageError(['-l', '--timeout', '1s']).topic).toBe('list');
    expect(usageError(['-l', '--vmmgr-conf', '/x']).message).toContain("'--vmmgr-conf'");
  });

  it('gives help with -l --help', () => {
    expect(parseCommandLine(['-l', '--help'], {})).toEqual({ name: 'help', topic: 'list' });
  });
});

describe('other commands', () => {
  it('status', () => {
    expect(parseCommandLine(['status', '--json'], { COROLISTENER_SOCKET: '/s' })).toEqual({
      name: 'status',
      json: true,
      socket: '/s',
      timeoutMs: DEFAULT_QUERY_TIMEOUT_MS,
    });
    expect(usageError(['status', 'now']).topic).toBe('status');
  });

  it('config sync|show|check', () => {
    expect(parseCommandLine(['config', 'show', '--json', '--vmmgr-conf', '/v'], {})).toEqual({
      name: 'config',
      action: 'show',
      json: true,
      corosyncConf: DEFAULTS.corosyncConf,
      vmmgrConf: '/v',
      socket: DEFAULTS.socket,
      keyFile: '/etc/corosync/authkey',
      port: 5407,
      timeoutMs: DEFAULT_QUERY_TIMEOUT_MS,
    });
    expect(parseCommandLine(['config', 'sync', '--key', '/k', '--port', '6000', '--timeout', '500'], {})).toMatchObject({
      action: 'sync',
      keyFile: '/k',
      port: 6000,
      timeoutMs: 500,
    });
    expect(usageError(['config', 'sync', '--port', '70000']).message).toBe('--port must be a TCP port (1..65535), got "70000"');
    expect(usageError(['config', 'sync', '--key', '']).message).toBe('--key must not be empty');
    expect(usageError(['config']).message).toBe('config needs an action: one of sync, show, check');
    expect(parseCommandLine(['config', '--help'], {})).toEqual({ name: 'help', topic: 'config' });
    expect(usageError(['config', 'edit']).message).toBe('unknown config action "edit"; one of: sync, show, check');
    expect(usageError(['config', 'shwo']).message).toBe('unknown config action "shwo"; did you mean "show"? one of: sync, show, check');
  });

  it('sandbox actions, with exec passing the command argv untouched', () => {
    const none = { cluster: undefined, nodes: undefined, all: false, json: false };
    expect(parseCommandLine(['sandbox', 'up'], {})).toEqual({ name: 'sandbox', action: 'up', args: [], ...none });
    expect(parseCommandLine(['sandbox', 'up', '--nodes', '2:99,4:100,8:98:off', '--name', 'lab'], {})).toEqual({
      name: 'sandbox',
      action: 'up',
      args: [],
      ...none,
      cluster: 'lab',
      nodes: [
        { nodeId: 2, prio: 99 },
        { nodeId: 4, prio: 100 },
        { nodeId: 8, prio: 98, replication: false },
      ],
    });
    expect(parseCommandLine(['sandbox', 'up', '--nodes', '5'], {})).toMatchObject({ nodes: 5 });
    expect(parseCommandLine(['sandbox', 'cut', 'n2'], {})).toEqual({ name: 'sandbox', action: 'cut', args: ['n2'], ...none });
    expect(parseCommandLine(['sandbox', 'heal', '--cluster', 'lab', '4'], {})).toMatchObject({ args: ['4'], cluster: 'lab' });
    expect(parseCommandLine(['sandbox', 'status', 'lab', '--json'], {})).toMatchObject({ cluster: 'lab', json: true });
    expect(parseCommandLine(['sandbox', 'down', '--all'], {})).toMatchObject({ action: 'down', all: true, cluster: undefined });
    expect(parseCommandLine(['sandbox', 'down', 'lab'], {})).toMatchObject({ action: 'down', all: false, cluster: 'lab' });
    expect(parseCommandLine(['sandbox', 'exec', 'n1', '--', 'ip', '-br', 'addr'], {})).toEqual({
      name: 'sandbox',
      action: 'exec',
      args: ['n1', 'ip', '-br', 'addr'],
      ...none,
    });
    expect(parseCommandLine(['sandbox', 'exec', 'n1', 'corosync-quorumtool', '-s'], {})).toMatchObject({
      args: ['n1', 'corosync-quorumtool', '-s'],
    });
    // --cluster before NODE is ours; after it, it belongs to the command.
    expect(parseCommandLine(['sandbox', 'exec', '--cluster=lab', 'n1', 'x', '--cluster', 'y'], {})).toMatchObject({
      args: ['n1', 'x', '--cluster', 'y'],
      cluster: 'lab',
    });
    expect(parseCommandLine(['sandbox', 'exec', '--cluster', 'lab', 'n1', 'x'], {})).toMatchObject({ args: ['n1', 'x'], cluster: 'lab' });
    expect(usageError(['sandbox', 'exec', 'n1']).topic).toBe('sandbox');
    expect(usageError(['sandbox', 'exec', '--cluster']).topic).toBe('sandbox');
    expect(usageError(['sandbox', 'explode']).message).toContain('unknown sandbox action "explode"');
    expect(parseCommandLine(['sandbox', 'kill', '--help'], {})).toEqual({ name: 'help', topic: 'sandbox' });
  });

  it('sandbox usage errors name the mistake', () => {
    expect(usageError(['sandbox', 'up', '--nodes', '2:x']).message).toBe('--nodes: item 1 "2:x": the priority must be an integer in 0..2147483647, got "x"');
    expect(usageError(['sandbox', 'up', '--nodes', '17']).message).toContain('the node count must be an integer in 1..16');
    expect(usageError(['sandbox', 'up', 'lab']).message).toBe('unexpected argument "lab"');
    expect(usageError(['sandbox', 'up', '--cluster', 'lab']).message).toContain("'--cluster'");
    expect(usageError(['sandbox', 'cut']).message).toBe('usage: corolistener sandbox cut NODE [--cluster NAME]');
    expect(usageError(['sandbox', 'cut', 'n1', 'n2']).message).toBe('usage: corolistener sandbox cut NODE [--cluster NAME]');
    expect(usageError(['sandbox', 'down', 'a', '--all']).message).toBe('--all and a cluster name exclude each other');
    expect(usageError(['sandbox', 'down', 'a', '--cluster', 'b']).message).toBe('give the cluster once: NAME or --cluster NAME');
    expect(usageError(['sandbox', 'status', 'a', 'b']).message).toBe('unexpected argument "b"');
    expect(usageError(['sandbox', 'heal', 'n1', '--cluster', '']).message).toBe('--cluster must not be empty');
  });

  it('demo, help, version, and unknown commands', () => {
    expect(parseCommandLine(['demo'], {})).toEqual({ name: 'demo' });
    expect(parseCommandLine([], {})).toEqual({ name: 'help', topic: undefined });
    expect(parseCommandLine(['--help'], {})).toEqual({ name: 'help', topic: undefined });
    expect(parseCommandLine(['help', 'sandbox'], {})).toEqual({ name: 'help', topic: 'sandbox' });
    expect(parseCommandLine(['help', '-l'], {})).toEqual({ name: 'help', topic: 'list' });
    expect(parseCommandLine(['help', 'list'], {})).toEqual({ name: 'help', topic: 'list' });
    expect(parseCommandLine(['-h'], {})).toEqual({ name: 'help', topic: undefined });
    expect(parseCommandLine(['-V'], {})).toEqual({ name: 'version' });
    expect(parseCommandLine(['demo', '-h'], {})).toEqual({ name: 'help', topic: 'demo' });
    expect(parseCommandLine(['--version'], {})).toEqual({ name: 'version' });
    expect(usageError(['frobnicate']).message).toBe(
      'unknown command "frobnicate"; one of: run, list, status, config, sandbox, demo, switchover, prio, replication, standby, maintenance, node, history, help',
    );
    expect(usageError(['stauts']).message).toContain('did you mean "status"?');
    expect(usageError(['run', '--lgo', 'x']).message).toBe("unknown option '--lgo'; did you mean --log?");
    expect(usageError(['run', '--log', '--socket', 'x']).message).toBe('--log needs a value (got the option "--socket")');
    expect(usageError(['--frobnicate']).message).toContain("'--frobnicate'");
  });

  it('documents the exit codes in every help text', () => {
    for (const topic of [undefined, 'run', 'list', 'status', 'config', 'sandbox', 'demo'] as const) {
      expect(helpText(topic)).toMatch(/Exit codes:\n {2}0 .*\n {2}1 [^]*\n {2}2 [^]*\n {2}3 /);
    }
  });
});
