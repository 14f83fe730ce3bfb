import { describe, expect, it } from 'vitest';
import { ConfigValidationError, defaultVmmgrConf, netmaskToPrefix, parseVmmgrConf } from '../../../src/config';

const errorsOf = (text: string): string[] => {
  try {
    parseVmmgrConf(text, '/usr/local/mgr5/etc/vmmgr.conf');
  } catch (e) {
    if (e instanceof ConfigValidationError) return e.errors.map(String);
    throw e;
  }
  return [];
};

describe('vmmgr.conf', () => {
  it('defaults when nothing is set', () => {
    expect(parseVmmgrConf('')).toEqual({
      cloudIp: undefined,
      cloudIpDev: 'vmbr0',
      cloudMask: 32,
      serviceStartCommand: undefined,
      serviceStopCommand: undefined,
      vmSuspendCommand: undefined,
      vmResumeCommand: undefined,
      nodeFailedCommand: undefined,
      takeoverDelayMs: 0,
      watchdogDevice: undefined,
      watchdogTimeoutS: 10,
      other: {},
      warnings: [],
    });
    expect(defaultVmmgrConf()).toEqual(parseVmmgrConf(''));
  });

  it('reads every directive, keeps unknown ones, ignores comments, blanks and CRLF', () => {
    const conf = parseVmmgrConf(
      [
        '# VMmanager settings',
        'DBHost localhost',
        '   ',
        'CloudIp 172.31.224.100',
        'CloudIpDev\tbr-cloud\r',
        'CloudMask 255.255.255.0',
        'ServiceStartCommand   /usr/bin/systemctl start ihttpd ',
        'ServiceStopCommand /usr/bin/systemctl stop ihttpd',
        'VmSuspendCommand /usr/local/mgr5/sbin/mgrctl -m vmmgr vm.suspend',
        'VmResumeCommand /usr/local/mgr5/sbin/mgrctl -m vmmgr vm.resume',
        'NodeFailedCommand /usr/local/bin/node-failed "$NODE"; rm -rf /',
        'TakeoverDelay 1500',
        'WatchdogDevice /dev/watchdog0',
        'WatchdogTimeout 15',
        'Option ClusterMode',
        'Option ClusterMode2',
      ].join('\n'),
    );
    expect(conf).toEqual({
      cloudIp: '172.31.224.100',
      cloudIpDev: 'br-cloud',
      cloudMask: 24,
      serviceStartCommand: ['/usr/bin/systemctl', 'start', 'ihttpd'],
      serviceStopCommand: ['/usr/bin/systemctl', 'stop', 'ihttpd'],
      vmSuspendCommand: ['/usr/local/mgr5/sbin/mgrctl', '-m', 'vmmgr', 'vm.suspend'],
      vmResumeCommand: ['/usr/local/mgr5/sbin/mgrctl', '-m', 'vmmgr', 'vm.resume'],
      // No shell and no quoting: shell syntax stays literal arguments.
      nodeFailedCommand: ['/usr/local/bin/node-failed', '"$NODE";', 'rm', '-rf', '/'],
      takeoverDelayMs: 1500,
      watchdogDevice: '/dev/watchdog0',
      watchdogTimeoutS: 15,
      // mgr5 repeats some directives (Option): every value is kept, in order.
      other: { DBHost: ['localhost'], Option: ['ClusterMode', 'ClusterMode2'] },
      warnings: [],
    });
  });

  it('CloudMask as prefix length or dotted netmask', () => {
    expect(parseVmmgrConf('CloudMask 0').cloudMask).toBe(0);
    expect(parseVmmgrConf('CloudMask 32').cloudMask).toBe(32);
    expect(parseVmmgrConf('CloudMask 255.255.255.255').cloudMask).toBe(32);
    expect(parseVmmgrConf('CloudMask 255.255.240.0').cloudMask).toBe(20);
    expect(netmaskToPrefix('0.0.0.0')).toBe(0);
    expect(netmaskToPrefix('255.0.255.0')).toBeUndefined();
  });

  it('invalid values: one clear error per line, naming file, line, column and directive', () => {
    expect(
      errorsOf(
        ['CloudIp 10.0.0.300', 'CloudMask 33', 'CloudMask 255.0.255.0', '# fine', 'TakeoverDelay -5', 'TakeoverDelay 1.5s', 'ServiceStartCommand', 'CloudIpDev eth0/1', 'CloudIp fd00::1'].join('\n'),
      ),
    ).toEqual([
      '/usr/local/mgr5/etc/vmmgr.conf:1:9: CloudIp: must be an IPv4 address, got "10.0.0.300"',
      '/usr/local/mgr5/etc/vmmgr.conf:2:11: CloudMask: must be a prefix length 0..32 or a dotted netmask such as 255.255.255.0, got "33"',
      '/usr/local/mgr5/etc/vmmgr.conf:3:11: CloudMask: must be a prefix length 0..32 or a dotted netmask such as 255.255.255.0, got "255.0.255.0"',
      '/usr/local/mgr5/etc/vmmgr.conf:5:15: TakeoverDelay: must be a whole number of milliseconds (0..999999999), got "-5"',
      '/usr/local/mgr5/etc/vmmgr.conf:6:15: TakeoverDelay: must be a whole number of milliseconds (0..999999999), got "1.5s"',
      '/usr/local/mgr5/etc/vmmgr.conf:7:20: ServiceStartCommand: empty command (expected a program and its arguments)',
      '/usr/local/mgr5/etc/vmmgr.conf:8:12: CloudIpDev: must be a network interface name (1-15 characters, no "/", ":" or blanks), got "eth0/1"',
      '/usr/local/mgr5/etc/vmmgr.conf:9:9: CloudIp: must be an IPv4 address, got "fd00::1"',
    ]);
  });

  it('WatchdogDevice and WatchdogTimeout: bad values are errors naming file, line, column and directive', () => {
    expect(errorsOf(['WatchdogDevice watchdog', 'WatchdogTimeout 0', 'WatchdogTimeout 10s', 'WatchdogTimeout 3601', 'WatchdogDevice /dev/watch dog'].join('\n'))).toEqual([
      '/usr/local/mgr5/etc/vmmgr.conf:1:16: WatchdogDevice: must be an absolute path without blanks (e.g. /dev/watchdog), got "watchdog"',
      '/usr/local/mgr5/etc/vmmgr.conf:2:17: WatchdogTimeout: must be a whole number of seconds (1..3600), got "0"',
      '/usr/local/mgr5/etc/vmmgr.conf:3:17: WatchdogTimeout: must be a whole number of seconds (1..3600), got "10s"',
      '/usr/local/mgr5/etc/vmmgr.conf:4:17: WatchdogTimeout: must be a whole number of seconds (1..3600), got "3601"',
      '/usr/local/mgr5/etc/vmmgr.conf:5:16: WatchdogDevice: must be an absolute path without blanks (e.g. /dev/watchdog), got "/dev/watch dog"',
    ]);
  });

  it('warns (without failing) about a repeated known directive and a known name in the wrong case', () => {
    const conf = parseVmmgrConf(['CloudIp 10.0.0.1', 'cloudip 10.0.0.9', '  CloudIp 10.0.0.2', 'TAKEOVERDELAY 5', 'Option A', 'Option B'].join('\n'), 'v.conf');
    expect(conf.cloudIp).toBe('10.0.0.2');
    expect(conf.takeoverDelayMs).toBe(0);
    expect(conf.other).toEqual({ cloudip: ['10.0.0.9'], TAKEOVERDELAY: ['5'], Option: ['A', 'B'] });
    expect(conf.warnings.map(String)).toEqual([
      'v.conf:2:1: cloudip: unknown directive, ignored: names are case-sensitive; did you mean CloudIp?',
      'v.conf:3:3: CloudIp: repeated (also on line 1): the last value is used',
      'v.conf:4:1: TAKEOVERDELAY: unknown directive, ignored: names are case-sensitive; did you mean TakeoverDelay?',
    ]);
    expect(conf.warnings.every((w) => w.severity === 'warning')).toBe(true);
  });

  it('a "#" after a value is not a comment: it is part of the value', () => {
    expect(errorsOf('CloudIp 10.0.0.1 # cluster IP')).toEqual(['/usr/local/mgr5/etc/vmmgr.conf:1:9: CloudIp: must be an IPv4 address, got "10.0.0.1 # cluster IP"']);
    expect(parseVmmgrConf('ServiceStopCommand /bin/stop #now').serviceStopCommand).toEqual(['/bin/stop', '#now']);
  });
});
