// The takeover edit with the engine's configVersion (issue 6, racing changes): the written
// config_version is at least the one the engine asks for, so a claimed version is skipped and
// a master already on top can re-raise past a same-version conflict; a retried edit is a no-op.
import { describe, expect, it } from 'vitest';
import { parseCorosyncConf, raiseNodePrioAboveOthers, serializeCorosyncConf, viewCorosyncConf } from '../../../src/config';
import { changedLines, corpus } from './support';

const design = (): string => corpus().find((f) => f.name === 'design-node-list.conf')!.text;

describe('raiseNodePrioAboveOthers with a minimum version', () => {
  it('without one, or with the next version, it is the plain takeover edit (version + 1)', () => {
    const plain = serializeCorosyncConf(raiseNodePrioAboveOthers(parseCorosyncConf(design()), 13).doc);
    expect(serializeCorosyncConf(raiseNodePrioAboveOthers(parseCorosyncConf(design()), 13, 13n).doc)).toBe(plain);
  });

  it('skips to the minimum version, changing only the two lines', () => {
    const raised = raiseNodePrioAboveOthers(parseCorosyncConf(design()), 13, 14n);
    expect(raised).toMatchObject({ prio: 101, changed: true });
    expect(viewCorosyncConf(raised.doc).configVersion).toBe(14n);
    expect(changedLines(design(), serializeCorosyncConf(raised.doc)).added).toEqual(['\tconfig_version: 14', '\t\tprio: 101']);
    // Retried with the same request: the file already has it, nothing is written again.
    expect(raiseNodePrioAboveOthers(raised.doc, 13, 14n)).toMatchObject({ prio: 101, changed: false });
  });

  it('a node already on top re-raises past a conflict: only config_version changes', () => {
    const top = raiseNodePrioAboveOthers(parseCorosyncConf(design()), 13).doc; // version 13, prio 101
    const again = raiseNodePrioAboveOthers(top, 13, 14n);
    expect(again).toMatchObject({ prio: 101, changed: true });
    expect(changedLines(serializeCorosyncConf(top), serializeCorosyncConf(again.doc))).toEqual({
      removed: ['\tconfig_version: 13'],
      added: ['\tconfig_version: 14'],
    });
  });
});
