// VMmanager's vmmgr.conf (mgr5 format): one `Name value` per line, `#` starts a comment line
// (only as the first non-blank: `CloudIp 10.0.0.1 # note` is an invalid address, because mgr5
// has no trailing comments and a "#" may be part of a command). corolistener reads the cluster
// IP settings and the commands it runs. Unknown directives are kept (in `other`, every value:
// mgr5 repeats some, such as `Option`) and otherwise ignored: the file belongs to VMmanager.
// Names are case-sensitive; a repeated known directive (the last one wins) and an unknown one
// that differs from a known name only in case (`cloudip`) are warnings, not errors.
//
// Commands are argv arrays split on runs of blanks, with no quoting and no shell: a value of
// `/usr/bin/systemctl start ihttpd` runs /usr/bin/systemctl with two arguments. An argument
// cannot contain blanks; wrap anything more complex in a script.

import { isIPv4 } from 'node:net';
import { ConfigError, ConfigValidationError } from './config-error';
import { readConfigText } from './config-file-text';

export interface VmmgrConf {
  /** The cluster (license) IP the master holds; undefined when not set. */
  readonly cloudIp: string | undefined;
  /** Interface the cluster IP goes on (default vmbr0). */
  readonly cloudIpDev: string;
  /** Prefix length of the cluster IP (CloudMask as length or dotted netmask; default 32). */
  readonly cloudMask: number;
  readonly serviceStartCommand: readonly string[] | undefined;
  readonly serviceStopCommand: readonly string[] | undefined;
  readonly vmSuspendCommand: readonly string[] | undefined;
  readonly vmResumeCommand: readonly string[] | undefined;
  readonly nodeFailedCommand: readonly string[] | undefined;
  /** Run on every role change (keepalived's notify), with COROLISTENER_OLD_ROLE and _NEW_ROLE; none by default. */
  readonly notifyCommand: readonly string[] | undefined;
  /** Milliseconds to wait before taking over (default 0). */
  readonly takeoverDelayMs: number;
  /** WatchdogDevice: the watchdog this node feeds while it is safe (self-fencing); undefined: fencing off. */
  readonly watchdogDevice: string | undefined;
  /** WatchdogTimeout in seconds: the device resets the node this long after its last feed (default 10). */
  readonly watchdogTimeoutS: number;
  /** Directives corolistener does not use: every value, in file order. */
  readonly other: Readonly<Record<string, readonly string[]>>;
  /** Problems that do not stop corolistener (repeated directives, names in the wrong case). */
  readonly warnings: readonly ConfigError[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const COMMANDS = {
  ServiceStartCommand: 'serviceStartCommand',
  ServiceStopCommand: 'serviceStopCommand',
  VmSuspendCommand: 'vmSuspendCommand',
  VmResumeCommand: 'vmResumeCommand',
  NodeFailedCommand: 'nodeFailedCommand',
  NotifyCommand: 'notifyCommand',
} as const;

const KNOWN: ReadonlySet<string> = new Set([...Object.keys(COMMANDS), 'CloudIp', 'CloudIpDev', 'CloudMask', 'TakeoverDelay', 'WatchdogDevice', 'WatchdogTimeout']);

/** WatchdogTimeout bounds (s): softdog and most hardware watchdogs take 1..65535; an hour is plenty. */
export const WATCHDOG_TIMEOUT_DEFAULT_S = 10;
const WATCHDOG_TIMEOUT_MAX_S = 3600;
const KNOWN_BY_LOWER_CASE = new Map([...KNOWN].map((name) => [name.toLowerCase(), name]));

/** Linux interface names: 1..15 bytes, no "/", no blanks, not "." or "..". */
const IFNAME = /^(?!\.{1,2}$)[^/\s:]{1,15}$/;

/** Dotted netmask to prefix length; undefined when the ones are not contiguous. */
export function netmaskToPrefix(mask: string): number | undefined {
  if (!isIPv4(mask)) return undefined;
  const bits = mask.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
  const binary = bits.toString(2).padStart(32, '0');
  return /^1*0*$/.test(binary) ? (binary.indexOf('0') === -1 ? 32 : binary.indexOf('0')) : undefined;
}

export function parseVmmgrConf(text: string, file = 'vmmgr.conf'): VmmgrConf {
  const conf: Mutable<VmmgrConf> = {
    cloudIp: undefined,
    cloudIpDev: 'vmbr0',
    cloudMask: 32,
    serviceStartCommand: undefined,
    serviceStopCommand: undefined,
    vmSuspendCommand: undefined,
    vmResumeCommand: undefined,
    nodeFailedCommand: undefined,
    notifyCommand: undefined,
    takeoverDelayMs: 0,
    watchdogDevice: undefined,
    watchdogTimeoutS: WATCHDOG_TIMEOUT_DEFAULT_S,
    other: {},
    warnings: [],
  };
  const other: Record<string, string[]> = {};
  const errors: ConfigError[] = [];
  const warnings: ConfigError[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const m = /^([ \t]*)(\S+)(?:[ \t]+(.*?))?[ \t]*$/.exec(line);
    if (!m || m[2]!.startsWith('#')) return;
    const name = m[2]!;
    const value = m[3] ?? '';
    const valueColumn = m[3] === undefined ? line.trimEnd().length + 1 : line.indexOf(value, m[1]!.length + name.length) + 1;
    const fail = (detail: string): void => {
      errors.push(new ConfigError({ file, line: index + 1, column: valueColumn, field: name, detail }));
    };
    // A NUL cannot be passed to a program (execve ends the argument there) and no directive
    // has a use for one: the line is refused rather than run cut short.
    if (line.includes('\0')) {
      errors.push(new ConfigError({ file, line: index + 1, column: line.indexOf('\0') + 1, field: name, detail: 'NUL byte in line' }));
      return;
    }
    const warn = (detail: string): void => {
      warnings.push(new ConfigError({ file, line: index + 1, column: m[1]!.length + 1, field: name, detail, severity: 'warning' }));
    };
    if (KNOWN.has(name)) {
      const earlier = seen.get(name);
      if (earlier !== undefined) warn(`repeated (also on line ${earlier}): the last value is used`);
      seen.set(name, index + 1);
    } else {
      const known = KNOWN_BY_LOWER_CASE.get(name.toLowerCase());
      if (known !== undefined) warn(`unknown directive, ignored: names are case-sensitive; did you mean ${known}?`);
    }
    if (name in COMMANDS) {
      const argv = value.split(/[ \t]+/).filter(Boolean);
      if (argv.length === 0) fail('empty command (expected a program and its arguments)');
      else conf[COMMANDS[name as keyof typeof COMMANDS]] = argv;
      return;
    }
    switch (name) {
      case 'CloudIp':
        if (isIPv4(value)) conf.cloudIp = value;
        else fail(`must be an IPv4 address, got "${value}"`);
        return;
      case 'CloudIpDev':
        if (IFNAME.test(value)) conf.cloudIpDev = value;
        else fail(`must be a network interface name (1-15 characters, no "/", ":" or blanks), got "${value}"`);
        return;
      case 'CloudMask': {
        const prefix = /^[0-9]{1,2}$/.test(value) && Number(value) <= 32 ? Number(value) : netmaskToPrefix(value);
        if (prefix !== undefined) conf.cloudMask = prefix;
        else fail(`must be a prefix length 0..32 or a dotted netmask such as 255.255.255.0, got "${value}"`);
        return;
      }
      case 'TakeoverDelay':
        if (/^[0-9]{1,9}$/.test(value)) conf.takeoverDelayMs = Number(value);
        else fail(`must be a whole number of milliseconds (0..999999999), got "${value}"`);
        return;
      case 'WatchdogDevice':
        if (/^\/[^\s]*$/.test(value) && value.length <= 4096) conf.watchdogDevice = value;
        else fail(`must be an absolute path without blanks (e.g. /dev/watchdog), got "${value}"`);
        return;
      case 'WatchdogTimeout':
        if (/^[0-9]{1,4}$/.test(value) && Number(value) >= 1 && Number(value) <= WATCHDOG_TIMEOUT_MAX_S) conf.watchdogTimeoutS = Number(value);
        else fail(`must be a whole number of seconds (1..${WATCHDOG_TIMEOUT_MAX_S}), got "${value}"`);
        return;
      default:
        (other[name] ??= []).push(value);
    }
  });
  if (errors.length > 0) throw new ConfigValidationError(errors, warnings);
  conf.other = other;
  conf.warnings = warnings;
  return conf;
}

/** What corolistener uses when there is no vmmgr.conf: every default. */
export function defaultVmmgrConf(): VmmgrConf {
  return parseVmmgrConf('');
}

export async function readVmmgrConf(path: string): Promise<VmmgrConf> {
  return parseVmmgrConf(await readConfigText(path), path);
}
