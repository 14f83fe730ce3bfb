// What corosync 3.1.7 itself refuses, as far as it does not depend on the host it runs on.
// Sources: exec/coroparse.c (typed keys, key names) and exec/totemconfig.c (version,
// transport, nodeids, link address families), each rule confirmed with `corosync -t -c FILE`
// (see test/unit/config/differential.test.ts). Host-dependent checks (is one node this host?
// do names resolve?) are left to `corosync -t`, which the writer runs before every write.

/** Integer keys by corosync path; corosync parses them with strtoll and checks the range. */
export const COROSYNC_INTEGER_KEYS: ReadonlyMap<string, readonly [number, number]> = (() => {
  const u8: [number, number] = [0, 0xff];
  const u16: [number, number] = [0, 0xffff];
  const u32: [number, number] = [0, 0xffffffff];
  const i32: [number, number] = [-0x80000000, 0x7fffffff];
  const m = new Map<string, [number, number]>();
  for (const k of ['pload.count', 'pload.size']) m.set(k, u32);
  for (const k of ['expected_votes', 'votes', 'last_man_standing_window', 'leaving_timeout']) m.set(`quorum.${k}`, u32);
  for (const k of ['two_node', 'expected_votes_tracking', 'allow_downscale', 'wait_for_all', 'auto_tie_breaker', 'last_man_standing']) {
    m.set(`quorum.${k}`, u8);
  }
  for (const k of ['timeout', 'sync_timeout', 'votes']) m.set(`quorum.device.${k}`, u32);
  m.set('quorum.device.master_wins', u8);
  for (const k of [
    'version',
    'nodeid',
    'threads',
    'token',
    'token_coefficient',
    'token_retransmit',
    'token_warning',
    'hold',
    'token_retransmits_before_loss_const',
    'join',
    'send_join',
    'consensus',
    'merge',
    'downcheck',
    'fail_recv_const',
    'seqno_unchanged_const',
    'rrp_token_expired_timeout',
    'rrp_problem_count_timeout',
    'rrp_problem_count_threshold',
    'rrp_problem_count_mcast_threshold',
    'rrp_autorecovery_check_timeout',
    'heartbeat_failures_allowed',
    'max_network_delay',
    'window_size',
    'max_messages',
    'miss_count_const',
    'knet_pmtud_interval',
    'knet_mtu',
    'knet_compression_threshold',
    'netmtu',
  ]) {
    m.set(`totem.${k}`, u32);
  }
  m.set('totem.knet_compression_level', i32);
  m.set('totem.interface.linknumber', u8);
  m.set('totem.interface.mcastport', u16);
  m.set('totem.interface.ttl', u8);
  m.set('totem.interface.knet_link_priority', u8);
  for (const k of ['knet_ping_interval', 'knet_ping_timeout', 'knet_ping_precision', 'knet_pong_count']) {
    m.set(`totem.interface.${k}`, u32);
  }
  m.set('nodelist.node.nodeid', u32);
  m.set('nodelist.node.quorum_votes', u32);
  m.set('resources.watchdog_timeout', u32);
  return m;
})();

/** Keys corosync accepts only from a fixed list of words. */
export const COROSYNC_ENUM_KEYS: ReadonlyMap<string, readonly string[]> = new Map([
  ['totem.ip_version', ['ipv4', 'ipv6', 'ipv6-4', 'ipv4-6']],
  ['totem.crypto_cipher', ['none', 'aes256', 'aes192', 'aes128']],
  ['totem.crypto_hash', ['none', 'md5', 'sha1', 'sha256', 'sha384', 'sha512']],
  ['system.qb_ipc_type', ['native', 'shm', 'socket']],
  ['system.sched_rr', ['yes', 'no']],
  ['system.move_to_root_cgroup', ['yes', 'no', 'auto']],
  ['system.allow_knet_handle_fallback', ['yes', 'no']],
]);

/** A word list for keys corosync checks after parsing, on the value that wins. */
export interface WordRule {
  readonly words: readonly string[];
  /** logsys_priority_id_get compares with strcasecmp; every other list is case-sensitive. */
  readonly ignoreCase: boolean;
}

const ON_OFF: WordRule = { words: ['on', 'off'], ignoreCase: false };
const YES_NO: WordRule = { words: ['yes', 'no', 'on', 'off'], ignoreCase: false };
const PRIORITY: WordRule = {
  words: ['alert', 'crit', 'debug', 'emerg', 'err', 'error', 'info', 'notice', 'warning'],
  ignoreCase: true,
};
/** libqb's qb_log_facility2int (strcmp). */
const FACILITY: WordRule = {
  words: ['auth', 'authpriv', 'cron', 'daemon', 'ftp', 'kern', 'lpr', 'mail', 'news', 'syslog', 'user', 'uucp', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'],
  ignoreCase: false,
};

/**
 * Logging keys exec/logconfig.c reads (corosync_main_config_set) for the top-level `logging`
 * section and for every `logging.logger_subsys`; `to_file` and `syslog_level` are the
 * deprecated spellings, still checked.
 */
export const LOGGER_WORD_KEYS: ReadonlyMap<string, WordRule> = new Map([
  ['to_stderr', YES_NO],
  ['to_syslog', YES_NO],
  ['to_file', YES_NO],
  ['to_logfile', YES_NO],
  ['syslog_facility', FACILITY],
  ['syslog_level', PRIORITY],
  ['syslog_priority', PRIORITY],
  ['logfile_priority', PRIORITY],
  ['debug', { words: ['on', 'off', 'trace'], ignoreCase: false }],
]);

/** Keys logconfig.c reads only from the top-level `logging` section (format and blackbox). */
export const LOGGING_ONLY_WORD_KEYS: ReadonlyMap<string, WordRule> = new Map([
  ['fileline', ON_OFF],
  ['function_name', ON_OFF],
  ['blackbox', ON_OFF],
  ['timestamp', { words: ['on', 'off', 'hires'], ignoreCase: false }],
]);

/** totem.link_mode (totemconfig.c totem_config_validate), any transport. */
export const TOTEM_LINK_MODE: WordRule = { words: ['active', 'passive', 'rr'], ignoreCase: false };
/** totem.interface.knet_transport (totemconfig.c get_interface_params), any transport. */
export const KNET_TRANSPORT: WordRule = { words: ['udp', 'sctp'], ignoreCase: false };

export function wordAllowed(rule: WordRule, value: string): boolean {
  return rule.ignoreCase ? rule.words.includes(value.toLowerCase()) : rule.words.includes(value);
}

export function wordRuleDetail(rule: WordRule, value: string): string {
  return `must be one of ${rule.words.join(', ')}${rule.ignoreCase ? ' (any case)' : ''}, got "${value}"`;
}

/**
 * strtoll-style integer as corosync reads it: optional sign, decimal digits, nothing else.
 * Returns undefined when corosync would refuse the text.
 */
export function parseCorosyncInteger(text: string, [min, max]: readonly [number, number]): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

/**
 * IPv4 address as glibc's inet_aton (used by getaddrinfo, hence by corosync) reads it: one to
 * four parts, each decimal, octal (leading 0) or hex (0x), the last part filling the remaining
 * bytes. Returns the dotted-quad decimal form, or undefined when glibc refuses the text.
 * "172.031.224.74" is 172.25.224.74, "127.1" is 127.0.0.1, "0x7f000001" is 127.0.0.1.
 */
export function inetAton(text: string): string | undefined {
  const parts = text.split('.');
  if (parts.length > 4) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    if (!/^(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.test(part)) return undefined;
    values.push(/^0[xX]/.test(part) ? parseInt(part.slice(2), 16) : part.startsWith('0') ? parseInt(part, 8) : Number(part));
  }
  const last = values.pop()!;
  if (values.some((v) => v > 0xff) || last >= 2 ** (8 * (4 - values.length))) return undefined;
  const bytes = [...values];
  for (let i = 3 - values.length; i >= 0; i--) bytes.push(Math.floor(last / 2 ** (8 * i)) % 256);
  return bytes.join('.');
}

/** Characters icmap accepts in key names (icmap_is_valid_name_char). */
export const ICMAP_NAME_CHARS = /^[A-Za-z0-9._/:-]*$/;
/** icmap refuses key names shorter than this (ICMAP_KEYNAME_MINLEN). */
export const ICMAP_NAME_MIN = 3;

/** Checked after parsing, on the value that wins (the last one). */
export const COROSYNC_TRANSPORTS = ['udpu', 'udp', 'knet'];

/** corosync with knet transport wants node ids below this. */
export const KNET_MAX_NODEID = 65535;
