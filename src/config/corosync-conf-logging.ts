// The logging section as corosync 3.1.7 checks it. exec/logconfig.c reads the logging keys
// after parsing, from the configuration map, so only the value that wins is checked (a bad
// value overwritten by a good one is accepted). Which value wins, confirmed with `corosync -t`:
// - top level: the last `logging.<key>` in the file (sections of one name merge);
// - `logger_subsys`: coroparse.c keeps a section's keys in a list it builds by prepending and
//   then stores in list order, so inside one section the FIRST value of a key wins; a later
//   section for the same `subsys` overwrites an earlier one. A section without `subsys` is a
//   parse error; a subsys name with a "." is never read back (logconfig.c's sscanf stops at
//   the "."), so its values are not checked.
// `logging_daemon` sections are not modelled (docs/config.md): `corosync -t` judges them.

import type { ConfEntry, ConfSection, CorosyncConfDocument } from './corosync-conf-document';
import { sectionsAt, valueAt } from './corosync-conf-document';
import { LOGGER_WORD_KEYS, LOGGING_ONLY_WORD_KEYS, type WordRule, wordAllowed, wordRuleDetail } from './corosync-conf-rules';

export interface LoggingProblems {
  /** A value corosync refuses. */
  onValue(entry: ConfEntry, detail: string): void;
  /** A section corosync refuses as a whole. */
  onSection(section: ConfSection, field: string, detail: string): void;
}

export function checkLogging(doc: CorosyncConfDocument, report: LoggingProblems): void {
  const check = (entry: ConfEntry | undefined, rule: WordRule): void => {
    if (entry && !wordAllowed(rule, entry.value)) report.onValue(entry, wordRuleDetail(rule, entry.value));
  };
  for (const [key, rule] of [...LOGGER_WORD_KEYS, ...LOGGING_ONLY_WORD_KEYS]) check(valueAt(doc, 'logging', key), rule);

  const winners = new Map<string, Map<string, ConfEntry>>();
  for (const section of sectionsAt(doc, 'logging.logger_subsys')) {
    let subsys: string | undefined;
    const first = new Map<string, ConfEntry>();
    for (const c of section.children) {
      if (c.kind !== 'entry') continue;
      if (c.key === 'subsys') subsys = c.value;
      else if (!first.has(c.key)) first.set(c.key, c);
    }
    if (subsys === undefined) {
      report.onSection(section, `${section.field}.subsys`, 'missing: corosync refuses a logger_subsys section without "subsys"');
      continue;
    }
    if (subsys.includes('.')) continue;
    const keys = winners.get(subsys) ?? new Map<string, ConfEntry>();
    for (const [key, entry] of first) keys.set(key, entry);
    winners.set(subsys, keys);
  }
  for (const keys of winners.values()) {
    for (const [key, rule] of LOGGER_WORD_KEYS) check(keys.get(key), rule);
  }
}
