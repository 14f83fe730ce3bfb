// Validation of a corosync.conf document: what corosync itself refuses (corosync-conf-rules.ts)
// plus corolistener's own rules for the VMmanager keys (prio, replication, ihttpd) and the
// election (every node needs a nodeid and a ring0_addr, no duplicates). Errors make the
// document unusable; warnings are reported but do not stop a write.

import { isIP } from 'node:net';
import { ConfigError } from './config-error';
import { type ConfEntry, type ConfSection, type CorosyncConfDocument, entriesOf, lastEntry, sectionsAt, valueAt } from './corosync-conf-document';
import { checkLogging } from './corosync-conf-logging';
import {
  COROSYNC_ENUM_KEYS,
  COROSYNC_INTEGER_KEYS,
  COROSYNC_TRANSPORTS,
  ICMAP_NAME_CHARS,
  ICMAP_NAME_MIN,
  KNET_MAX_NODEID,
  KNET_TRANSPORT,
  TOTEM_LINK_MODE,
  type WordRule,
  inetAton,
  parseCorosyncInteger,
  wordAllowed,
  wordRuleDetail,
} from './corosync-conf-rules';
import { RING_ADDR_KEY, nodeSections, parseConfigVersion, parseUnsigned } from './corosync-conf-view';

export interface ValidationResult {
  readonly errors: readonly ConfigError[];
  readonly warnings: readonly ConfigError[];
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export function validateCorosyncConf(doc: CorosyncConfDocument): ValidationResult {
  const errors: ConfigError[] = [...doc.syntaxErrors];
  const warnings: ConfigError[] = [];
  const at = (list: ConfigError[], line: number, column: number, field: string, detail: string): void => {
    list.push(
      new ConfigError({
        file: doc.file,
        line: line + 1,
        column: column + 1,
        field,
        detail,
        severity: list === warnings ? 'warning' : 'error',
      }),
    );
  };
  const onValue = (e: ConfEntry, detail: string, list = errors): void => at(list, e.line, e.valueStart, e.field, detail);
  const onSection = (s: ConfSection, field: string, detail: string, list = errors): void => at(list, Math.max(s.line, 0), s.nameStart, field, detail);

  checkKeys(doc, errors, onValue, at);
  checkTotem(doc, errors, onValue, at);
  checkLogging(doc, { onValue: (e, detail) => onValue(e, detail), onSection: (s, field, detail) => onSection(s, field, detail) });
  checkNodes(doc, errors, warnings, onValue, onSection, at);
  checkIhttpd(doc, warnings, onValue);
  // corolistener { maintenance: on|off } (issue 18): anything else would leave it unclear whether listeners act.
  for (const section of sectionsAt(doc, 'corolistener')) {
    for (const e of entriesOf(section)) if (e.key === 'maintenance' && e.value !== 'on' && e.value !== 'off') onValue(e, `must be on or off, got "${e.value}"`);
  }
  return { errors: sortByPosition(errors), warnings: sortByPosition(warnings) };
}

type At = (list: ConfigError[], line: number, column: number, field: string, detail: string) => void;
type OnValue = (e: ConfEntry, detail: string, list?: ConfigError[]) => void;
type OnSection = (s: ConfSection, field: string, detail: string, list?: ConfigError[]) => void;

function sortByPosition(list: ConfigError[]): ConfigError[] {
  return list.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Key names, typed keys and word lists, as corosync's parser checks them while reading. */
function checkKeys(doc: CorosyncConfDocument, errors: ConfigError[], onValue: OnValue, at: At): void {
  for (const e of entriesOf(doc.root)) {
    if (!ICMAP_NAME_CHARS.test(e.path) || e.path.length < ICMAP_NAME_MIN) {
      at(errors, e.line, e.keyStart, e.field, `corosync refuses the key name "${e.path}" (letters, digits and . _ / : - only, at least ${ICMAP_NAME_MIN} characters)`);
      continue;
    }
    const range = COROSYNC_INTEGER_KEYS.get(e.path);
    if (range && parseCorosyncInteger(e.value, range) === undefined) {
      onValue(e, `must be an integer in ${range[0]}..${range[1]}, got "${e.value}"`);
    }
    const words = COROSYNC_ENUM_KEYS.get(e.path);
    if (words) checkWord(e, { words, ignoreCase: false }, onValue);
    if (e.path === 'totem.config_version' && parseConfigVersion(e.value) === undefined) {
      onValue(e, `must be an unsigned integer (0..18446744073709551615), got "${e.value}"`);
    }
  }
}

function checkTotem(doc: CorosyncConfDocument, errors: ConfigError[], onValue: OnValue, at: At): void {
  const version = valueAt(doc, 'totem', 'version');
  if (!version) {
    const totem = sectionsAt(doc, 'totem')[0];
    at(errors, totem ? totem.line : 0, totem ? totem.nameStart : 0, 'totem.version', 'missing: corosync requires "version: 2" in the totem section');
  } else if (parseCorosyncInteger(version.value, [0, 0xffffffff]) !== undefined && Number(version.value) !== 2) {
    onValue(version, `must be 2 (the only version corosync parses), got "${version.value}"`);
  }
  checkWord(valueAt(doc, 'totem', 'transport'), { words: COROSYNC_TRANSPORTS, ignoreCase: false }, onValue);
  checkWord(valueAt(doc, 'totem', 'link_mode'), TOTEM_LINK_MODE, onValue);
  // coroparse.c stores an interface's knet_transport under its linknumber (default 0) when the
  // section ends, so per link the last section that sets it wins, and its last value.
  const transportOfLink = new Map<string, ConfEntry>();
  for (const iface of sectionsAt(doc, 'totem.interface')) {
    const chosen = lastEntry(iface, 'knet_transport');
    const link = lastEntry(iface, 'linknumber')?.value ?? '0';
    if (chosen) transportOfLink.set(String(parseCorosyncInteger(link, [0, 0xff]) ?? link), chosen);
  }
  for (const entry of transportOfLink.values()) checkWord(entry, KNET_TRANSPORT, onValue);
  checkCrypto(doc, onValue);
}

function checkWord(entry: ConfEntry | undefined, rule: WordRule, onValue: OnValue): void {
  if (entry && !wordAllowed(rule, entry.value)) onValue(entry, wordRuleDetail(rule, entry.value));
}

/**
 * totemconfig.c totem_get_crypto: `secauth: on` means aes256 + sha256, crypto_cipher and
 * crypto_hash override it (default none), and a cipher without a hash is refused;
 * totem_config_validate allows crypto only with knet.
 */
function checkCrypto(doc: CorosyncConfDocument, onValue: OnValue): void {
  const secauth = valueAt(doc, 'totem', 'secauth');
  const cipher = valueAt(doc, 'totem', 'crypto_cipher');
  const hash = valueAt(doc, 'totem', 'crypto_hash');
  const on = secauth?.value === 'on';
  const cipherValue = cipher?.value ?? (on ? 'aes256' : 'none');
  const hashValue = hash?.value ?? (on ? 'sha256' : 'none');
  const transport = valueAt(doc, 'totem', 'transport')?.value ?? 'knet';
  if (transport !== 'knet' && (cipherValue !== 'none' || hashValue !== 'none')) {
    const entry = cipherValue !== 'none' ? (cipher ?? secauth!) : (hash ?? secauth!);
    onValue(entry, `crypto (crypto_cipher ${cipherValue}, crypto_hash ${hashValue}) needs the knet transport, not ${transport}`);
    return;
  }
  if (cipherValue === 'none' || hashValue !== 'none') return;
  const cause = cipher ? `crypto_cipher is ${cipher.value} (line ${cipher.line + 1})` : `secauth is on (line ${secauth!.line + 1})`;
  if (hash) onValue(hash, `must not be none when ${cause}: corosync requires a hash with a cipher`);
  else onValue(cipher!, `needs crypto_hash (other than none): corosync requires a hash with a cipher, and crypto_hash defaults to none`);
}

function checkNodes(doc: CorosyncConfDocument, errors: ConfigError[], warnings: ConfigError[], onValue: OnValue, onSection: OnSection, at: At): void {
  const knet = (valueAt(doc, 'totem', 'transport')?.value ?? 'knet') === 'knet';
  const lists = sectionsAt(doc, 'nodelist');
  for (const extra of lists.slice(1)) {
    onSection(extra, 'nodelist', `second nodelist section (first on line ${lists[0]!.line + 1}): corosync numbers nodes from 0 in each, so its nodes overwrite the first ones`);
  }
  const nodes = nodeSections(doc);
  if (nodes.length === 0) {
    const list = sectionsAt(doc, 'nodelist')[0];
    at(errors, list ? list.line : 0, list ? list.nameStart : 0, 'nodelist', 'no node sections: corolistener needs the node list');
    return;
  }
  const seenIds = new Map<number, ConfEntry>();
  const seenAddrs = new Map<string, ConfEntry>();
  const familyOfLink = new Map<number, { family: number; entry: ConfEntry }>();
  let multiLink = false;
  nodes.forEach((node) => {
    const last = new Map<string, ConfEntry>();
    for (const c of node.children) {
      if (c.kind !== 'entry') continue;
      const earlier = last.get(c.key);
      if (earlier) {
        at(warnings, c.line, c.keyStart, c.field, `repeated key (line ${earlier.line + 1} too): corosync uses the last value`);
      }
      last.set(c.key, c);
    }
    const nodeid = last.get('nodeid');
    const id = nodeid === undefined ? undefined : parseCorosyncInteger(nodeid.value, [0, 0xffffffff]);
    if (!nodeid) {
      onSection(node, `${node.field}.nodeid`, 'missing: every node needs a nodeid');
    } else if (id === 0) {
      onValue(nodeid, 'must not be 0 (corosync treats 0 as "no nodeid")');
    } else if (id !== undefined && knet && id > KNET_MAX_NODEID) {
      onValue(nodeid, `must be at most ${KNET_MAX_NODEID} with the knet transport, got ${id}`);
    } else if (id !== undefined) {
      const dup = seenIds.get(id);
      if (dup) onValue(nodeid, `duplicate nodeid ${id} (also on line ${dup.line + 1})`);
      else seenIds.set(id, nodeid);
    }
    if (!last.has('ring0_addr')) onSection(node, `${node.field}.ring0_addr`, 'missing: every node needs a ring0_addr');
    for (const [key, entry] of last) {
      const m = RING_ADDR_KEY.exec(key);
      if (!m) continue;
      const link = Number(m[1]);
      if (link > 0) multiLink = true;
      const family = isIP(entry.value);
      // glibc reads "031" as octal 25 and "127.1" as 127.0.0.1: such a file means another
      // address than it shows, so we refuse it (corosync accepts it; docs/config.md).
      const aton = family === 0 ? inetAton(entry.value) : undefined;
      if (aton !== undefined) {
        onValue(entry, `ambiguous numeric IPv4 address "${entry.value}": corosync (glibc inet_aton) reads it as ${aton}; write that if it is meant`);
        continue;
      }
      // All digits and dots is a mistyped IPv4 address, not a host name ("300.1.1.1", "10.0.0.").
      if (family === 0 && (!HOSTNAME.test(entry.value) || /^[0-9.]+$/.test(entry.value))) {
        onValue(entry, `must be an IPv4 or IPv6 address or a host name, got "${entry.value}"`);
        continue;
      }
      const addrKey = `${link}/${entry.value.toLowerCase()}`;
      const dup = seenAddrs.get(addrKey);
      if (dup) onValue(entry, `duplicate address ${entry.value} (also on line ${dup.line + 1})`);
      else seenAddrs.set(addrKey, entry);
      if (family !== 0) {
        const first = familyOfLink.get(link);
        if (!first) familyOfLink.set(link, { family, entry });
        else if (first.family !== family) {
          onValue(entry, `link ${link} mixes IPv${first.family} (line ${first.entry.line + 1}) and IPv${family} addresses`);
        }
      }
    }
    const prio = last.get('prio');
    if (prio && parseUnsigned(prio.value, Number.MAX_SAFE_INTEGER) === undefined) {
      onValue(prio, `must be an integer (0 or more), got "${prio.value}"`);
    }
    for (const key of ['replication', 'standby']) {
      const flag = last.get(key);
      if (flag && flag.value !== 'on' && flag.value !== 'off') onValue(flag, `must be on or off, got "${flag.value}"`);
    }
  });
  if (multiLink) {
    // corosync (totemconfig.c): every link must have as many member addresses as the others.
    const linksOf = (node: ConfSection): Set<number> =>
      new Set(
        node.children.flatMap((c) => {
          const m = c.kind === 'entry' ? RING_ADDR_KEY.exec(c.key) : null;
          return m ? [Number(m[1])] : [];
        }),
      );
    const perNode = nodes.map(linksOf);
    const links = [...new Set(perNode.flatMap((l) => [...l]))].sort((a, b) => a - b);
    const counts = links.map((link) => perNode.filter((l) => l.has(link)).length);
    if (counts.some((c) => c !== counts[0])) {
      const node = nodes.find((_, i) => perNode[i]!.size > 0 && links.some((link) => !perNode[i]!.has(link)))!;
      const missing = links.filter((link) => !linksOf(node).has(link));
      onSection(node, `${node.field}.ring${missing[0]}_addr`, `missing: not all nodes have the same number of links (links ${links.join(', ')} are in use)`);
    }
    // corosync skips nodes without any address, so only addressed nodes need a name.
    const hasKey = (node: ConfSection, test: (key: string) => boolean): boolean => node.children.some((c) => c.kind === 'entry' && test(c.key));
    for (const node of nodes) {
      if (hasKey(node, (k) => RING_ADDR_KEY.test(k)) && !hasKey(node, (k) => k === 'name')) {
        onSection(node, `${node.field}.name`, 'missing: with more than one link (ring1_addr...) corosync needs a name on every node');
      }
    }
  }
  const expected = valueAt(doc, 'quorum', 'expected_votes');
  const votes = expected === undefined ? undefined : parseCorosyncInteger(expected.value, [0, 0xffffffff]);
  // votequorum counts quorum_votes per node (default 1), so that sum is what expected_votes
  // should be. An unparsable quorum_votes is an error already: no warning then.
  const nodeVotes = nodes.map((node) => {
    const v = lastEntry(node, 'quorum_votes');
    return v === undefined ? 1 : parseCorosyncInteger(v.value, [0, 0xffffffff]);
  });
  const total = nodeVotes.every((v) => v !== undefined) ? nodeVotes.reduce((a, b) => a! + b!, 0)! : undefined;
  if (expected && votes !== undefined && total !== undefined && votes !== total) {
    const n = `${nodes.length} node${nodes.length === 1 ? '' : 's'}`;
    onValue(expected, `is ${votes} but the nodelist has ${total} vote${total === 1 ? '' : 's'} (${n}, quorum_votes default 1)`, warnings);
  }
}

/** ihttpd problems do not stop corosync or the election, so they are warnings. */
function checkIhttpd(doc: CorosyncConfDocument, warnings: ConfigError[], onValue: OnValue): void {
  for (const section of sectionsAt(doc, 'ihttpd')) {
    for (const e of entriesOf(section)) {
      if (e.key === 'count' && parseUnsigned(e.value, 0xffffffff) === undefined) {
        onValue(e, `must be an integer (0 or more), got "${e.value}"`, warnings);
      }
      if (/^port[0-9]+$/.test(e.key) && !(Number(parseUnsigned(e.value, 65535)) >= 1)) {
        onValue(e, `must be a port number 1..65535, got "${e.value}"`, warnings);
      }
    }
  }
  const count = valueAt(doc, 'ihttpd', 'count');
  const n = parseUnsigned(count?.value, 0xffffffff);
  if (count && n !== undefined) {
    for (let i = 0; i < n; i++) {
      if (!valueAt(doc, 'ihttpd', `port${i}`)) onValue(count, `is ${n} but ihttpd.port${i} is missing`, warnings);
    }
  }
}
