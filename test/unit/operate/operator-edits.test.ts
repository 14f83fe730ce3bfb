// An operator's corosync.conf edits (src/config/operator-edits.ts): minimal, validated by our
// parser, with the decided config_version; nodes added in the style of the others and removed,
// quorum.expected_votes following where it is set.
import { expect, it } from 'vitest';
import { parseCorosyncConf, serializeCorosyncConf, validateCorosyncConf } from '../../../src/config';
import { applyOperatorEdits } from '../../../src/config/operator-edits';
import { corosyncConfText, DOC_EXAMPLE_NODES } from '../daemon/fakes';

const doc = () => parseCorosyncConf(corosyncConfText(DOC_EXAMPLE_NODES, 3), '/etc/corosync/corosync.conf');

it('adds a node like the others, raises expected_votes, and removes it again to the same text', () => {
  const added = applyOperatorEdits(doc(), [{ addNode: { nodeId: 11, address: '198.18.0.11', prio: 10, replication: true } }], 4);
  const text = serializeCorosyncConf(added);
  expect(text).toContain(
    '  node {\n    ring0_addr: 198.18.0.8\n    nodeid: 8\n    prio: 98\n    replication: on\n  }\n  node {\n    ring0_addr: 198.18.0.11\n    nodeid: 11\n    prio: 10\n    replication: on\n  }\n}\n',
  );
  expect(text).toMatch(/expected_votes: 4\n/);
  expect(text).toMatch(/config_version: 4\n/);
  expect(validateCorosyncConf(added).errors).toEqual([]);
  const removed = applyOperatorEdits(added, [{ removeNode: 11 }], 5);
  expect(serializeCorosyncConf(removed)).toBe(corosyncConfText(DOC_EXAMPLE_NODES, 5));
});

it('sets maintenance in a section of its own and standby on a node; refuses a version not above the file', () => {
  const edited = applyOperatorEdits(
    doc(),
    [
      { section: 'corolistener', key: 'maintenance', value: 'on' },
      { nodeId: 4, key: 'standby', value: 'on' },
    ],
    4,
  );
  const text = serializeCorosyncConf(edited);
  expect(text).toMatch(/\ncorolistener \{\n\tmaintenance: on\n\}\n$/);
  expect(text).toContain('nodeid: 4\n    prio: 100\n    replication: on\n    standby: on\n');
  expect(validateCorosyncConf(edited).errors).toEqual([]);
  expect(serializeCorosyncConf(applyOperatorEdits(edited, [{ section: 'corolistener', key: 'maintenance', value: 'off' }], 5))).toMatch(/\ncorolistener \{\n\tmaintenance: off\n\}\n$/);
  // The same edit again (a step repeated after it was written) changes nothing; another one at that version is refused.
  expect(
    serializeCorosyncConf(
      applyOperatorEdits(
        edited,
        [
          { section: 'corolistener', key: 'maintenance', value: 'on' },
          { nodeId: 4, key: 'standby', value: 'on' },
        ],
        4,
      ),
    ),
  ).toBe(text);
  expect(() => applyOperatorEdits(doc(), [{ nodeId: 4, key: 'prio', value: '7' }], 3)).toThrow(/totem\.config_version.*already 3, not below 3 as decided/);
  expect(() => applyOperatorEdits(doc(), [{ removeNode: 99 }], 4)).toThrow(/no node with nodeid 99/);
});

it('validation names a bad standby or maintenance value', () => {
  const bad = parseCorosyncConf(`${corosyncConfText(DOC_EXAMPLE_NODES, 3).replace('nodeid: 8\n', 'nodeid: 8\n    standby: maybe\n')}corolistener {\n\tmaintenance: yes\n}\n`, 'c.conf');
  const messages = validateCorosyncConf(bad).errors.map((e) => e.message);
  expect(messages.some((m) => /standby.*must be on or off, got "maybe"/.test(m))).toBe(true);
  expect(messages.some((m) => /maintenance.*must be on or off, got "yes"/.test(m))).toBe(true);
});
