import { expect, it } from 'vitest';
import { formatTextTable } from '../../../src/cli/text-table';

it('aligns columns to the widest cell, two spaces apart, no trailing blanks', () => {
  expect(
    formatTextTable(
      ['NODE', 'IP', 'MEMBERS'],
      [
        ['n1', '198.18.0.1', '1,2'],
        ['n10', '198.18.0.10', ''],
      ],
    ),
  ).toBe('NODE  IP           MEMBERS\n' + 'n1    198.18.0.1   1,2\n' + 'n10   198.18.0.10\n');
});
