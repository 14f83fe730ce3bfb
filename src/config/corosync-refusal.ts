// Turns a refusal by `corosync -t` into a ConfigError that names the line, column and field of
// the entry involved, like our own validation errors. corosync names a line only for parse
// errors ("FILE:12: ..."); its checks after parsing (logging words, totem timeouts, crypto,
// node addresses) name a key or a value, so the well-known messages (exec/logconfig.c,
// exec/totemconfig.c of 3.1.7) are mapped back to the entry here. Anything else falls back to
// the line corosync names, or line 1, with the field "corosync -t".

import { ConfigError } from './config-error';
import { type ConfEntry, type ConfSection, type CorosyncConfDocument, entriesOf, sectionsAt, valueAt } from './corosync-conf-document';
import { LOGGER_WORD_KEYS, LOGGING_ONLY_WORD_KEYS, wordAllowed } from './corosync-conf-rules';

type Located = ConfEntry | { readonly section: ConfSection; readonly field: string };
type Locator = (m: RegExpExecArray, doc: CorosyncConfDocument) => Located | undefined;

const allEntries = (doc: CorosyncConfDocument): ConfEntry[] => [...entriesOf(doc.root)];

/** A logging key: the entry whose value corosync refused (the first bad one), else the last. */
function loggingEntry(doc: CorosyncConfDocument, key: string): ConfEntry | undefined {
  const rule = LOGGER_WORD_KEYS.get(key) ?? LOGGING_ONLY_WORD_KEYS.get(key);
  const candidates = allEntries(doc).filter((e) => e.key === key && e.path.startsWith('logging.'));
  return candidates.find((e) => rule !== undefined && !wordAllowed(rule, e.value)) ?? candidates.at(-1);
}

/** A totem key, or the totem section when the value is a default derived from other keys. */
function totemKey(doc: CorosyncConfDocument, key: string): Located | undefined {
  const entry = valueAt(doc, 'totem', key);
  if (entry) return entry;
  const totem = sectionsAt(doc, 'totem').at(-1);
  return totem ? { section: totem, field: `totem.${key}` } : undefined;
}

/** totemconfig.c's names for its timeouts, by the key they come from. */
const TIMEOUT_KEYS: Readonly<Record<string, string>> = {
  token: 'token',
  'token retransmit': 'token_retransmit',
  'token hold': 'hold',
  join: 'join',
  consensus: 'consensus',
  merge: 'merge',
  downcheck: 'downcheck',
};

const crypto = (doc: CorosyncConfDocument): Located | undefined => {
  const hash = valueAt(doc, 'totem', 'crypto_hash');
  const cipher = valueAt(doc, 'totem', 'crypto_cipher');
  const secauth = valueAt(doc, 'totem', 'secauth');
  return (hash?.value === 'none' ? hash : undefined) ?? cipher ?? secauth ?? hash;
};

const LOCATORS: ReadonlyArray<readonly [RegExp, Locator]> = [
  [/unknown value for (\w+)/, (m, doc) => loggingEntry(doc, m[1]!)],
  [/unknown (syslog facility|syslog priority|syslog level|logfile priority) specified/, (m, doc) => loggingEntry(doc, m[1]!.replace(' ', '_'))],
  [/The (token|token retransmit|token hold|join|consensus|merge|downcheck) timeout parameter/, (m, doc) => totemKey(doc, TIMEOUT_KEYS[m[1]!]!)],
  [/The max_network_delay parameter/, (_, doc) => totemKey(doc, 'max_network_delay')],
  [/Not appropriate token or token_retransmits_before_loss_const/, (_, doc) => valueAt(doc, 'totem', 'token') ?? totemKey(doc, 'token_retransmits_before_loss_const')],
  [/crypto_cipher requires crypto_hash/, (_, doc) => crypto(doc)],
  [/crypto_cipher & crypto_hash are only valid for the Knet transport/, (_, doc) => valueAt(doc, 'totem', 'crypto_cipher') ?? valueAt(doc, 'totem', 'crypto_hash') ?? valueAt(doc, 'totem', 'secauth')],
  [/failed to parse node address '([^']*)'/, (m, doc) => allEntries(doc).find((e) => /^nodelist\.node\.ring[0-9]+_addr$/.test(e.path) && e.value === m[1])],
  [/failed to parse (bindnet|mcast) address '([^']*)'/, (m, doc) => allEntries(doc).find((e) => e.path === `totem.interface.${m[1]}addr` && e.value === m[2])],
  [/Value of key "([^"]+)"/, (m, doc) => allEntries(doc).find((e) => e.path === m[1])],
  [/The Knet link mode/, (_, doc) => valueAt(doc, 'totem', 'link_mode')],
  [/Unrecognised knet_transport/, (_, doc) => allEntries(doc).find((e) => e.path === 'totem.interface.knet_transport' && !['udp', 'sctp'].includes(e.value))],
  [
    /No valid name found for local host/,
    (_, doc) => {
      const list = sectionsAt(doc, 'nodelist')[0];
      return list ? { section: list, field: 'nodelist' } : undefined;
    },
  ],
];

/**
 * `message` is corosync's output with the temp file's name already replaced by `doc.file`.
 * The error's detail keeps corosync's own words.
 */
export function corosyncRefusalError(doc: CorosyncConfDocument, message: string): ConfigError {
  const detail = `corosync -t refuses the file: ${message}`;
  for (const [re, locate] of LOCATORS) {
    const m = re.exec(message);
    const found = m ? locate(m, doc) : undefined;
    if (!found) continue;
    if ('section' in found) {
      return new ConfigError({ file: doc.file, line: found.section.line + 1, column: found.section.nameStart + 1, field: found.field, detail });
    }
    return new ConfigError({ file: doc.file, line: found.line + 1, column: found.valueStart + 1, field: found.field, detail });
  }
  const named = new RegExp(`${escapeRegExp(doc.file)}:(\\d+):`).exec(message);
  const line = named ? Number(named[1]) : 1;
  const entry = named ? allEntries(doc).find((e) => e.line === line - 1) : undefined;
  return new ConfigError({
    file: doc.file,
    line,
    column: entry ? entry.keyStart + 1 : 1,
    field: entry?.field ?? 'corosync -t',
    detail,
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
