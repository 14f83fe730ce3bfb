import { describe, expect, it } from 'vitest';
import { formatNodeListJson, formatNodeTable } from '../../../src/cli/node-table';
import { parseNodeListReport, type NodeListEntry, type NodeListReport } from '../../../src/daemon/report';
import { DOCUMENTED_NODE_TABLE } from '../../support/documented-node-table';

// Verbatim from docs/design.md §1 (the VMmanager documentation's example).
const DOCUMENTED = [...DOCUMENTED_NODE_TABLE, ''].join('\n');

function node(id: number, ip: string, role: NodeListEntry['role'], priority: number | null, status: NodeListEntry['status'] = 'joined'): NodeListEntry {
  return { id, ip, status, role, priority, replication: true };
}

function report(nodes: NodeListEntry[]): NodeListReport {
  return {
    cluster: { name: 'VMmanager', quorate: true, configVersion: 12, expectedVotes: 3 },
    localNodeId: nodes[0]?.id ?? 1,
    masterNodeId: nodes.find((n) => n.role === 'M')?.id ?? null,
    nodes,
  };
}

const EXAMPLE = report([node(7, '172.31.224.72', 'M', 100), node(9, '172.31.224.74', 'S', 40), node(13, '172.31.224.80', 'S', 10)]);

describe('formatNodeTable', () => {
  it('reproduces the documented example byte for byte', () => {
    expect(formatNodeTable(EXAMPLE)).toBe(DOCUMENTED);
  });

  it('prints title, rule and header for an empty node list', () => {
    expect(formatNodeTable(report([]))).toBe(DOCUMENTED.split('\n').slice(0, 3).join('\n') + '\n');
  });

  it('shows left nodes, unknown role and unknown priority as documented', () => {
    const lines = formatNodeTable(report([node(2, '10.0.0.2', '-', null, 'left')])).split('\n');
    expect(lines[3]).toBe('          2         10.0.0.2      left             -         -');
    expect(lines[3].length).toBe(62);
  });

  it('keeps the documented column ends for values that fit exactly (widest with a two-space gap)', () => {
    const lines = formatNodeTable(report([node(123456789, '255.255.255.255', 'S', 12345678)])).split('\n');
    expect(lines[3]).toBe('  123456789  255.255.255.255    joined             S  12345678');
    expect(lines[1]).toBe(DOCUMENTED.split('\n')[1]);
  });

  it('widens a column for a wider value, never truncates, and keeps the other columns aligned', () => {
    const v6 = '2001:db8:85a3::8a2e:370:7334';
    const text = formatNodeTable(report([node(4294967295, v6, 'M', 123456789012), node(9, '172.31.224.74', 'S', 40)]));
    const lines = text.split('\n').slice(0, -1);
    expect(lines[3]).toContain(v6);
    expect(lines[3]).toContain('4294967295');
    expect(lines[3]).toContain('123456789012');
    // Id 10 digits + 2 gap = 12, Ip 28 + 2 = 30, Status 10, Master/Slave 14, Priority 12 + 2 = 14.
    const width = 12 + 30 + 10 + 14 + 14;
    for (const line of lines.slice(2)) expect(line.length).toBe(width);
    expect(lines[1]).toBe(` ${'='.repeat(width - 1)}`);
    expect(lines[2]).toBe(`${'Id'.padStart(12)}${'Ip'.padStart(30)}    Status  Master/Slave${'Priority'.padStart(14)}`);
    expect(lines[3]).toBe(`  4294967295  ${v6}    joined             M  123456789012`);
    expect(lines[4]).toBe(`${'9'.padStart(12)}${'172.31.224.74'.padStart(30)}    joined             S${'40'.padStart(14)}`);
    // Right alignment: every row's cells end where the header's do.
    for (const header of ['Id', 'Ip', 'Status', 'Master/Slave', 'Priority']) {
      const end = lines[2].indexOf(header) + header.length;
      for (const row of lines.slice(3)) expect(row[end - 1]).not.toBe(' ');
    }
  });

  it('neutralises control characters so a value cannot break lines', () => {
    const text = formatNodeTable(report([node(1, '10.0.0.1\n\u001b[2J', 'S', 1)]));
    expect(text.split('\n')).toHaveLength(5);
    expect(text).not.toContain('\u001b');
  });
});

describe('formatNodeListJson', () => {
  it('is the report as JSON, and parses back to the same report', () => {
    const text = formatNodeListJson(EXAMPLE);
    expect(text).toBe(`${JSON.stringify(EXAMPLE)}\n`);
    expect(parseNodeListReport(JSON.parse(text))).toEqual(EXAMPLE);
  });
});

describe('parseNodeListReport', () => {
  it('names the offending field', () => {
    const bad = JSON.parse(JSON.stringify(EXAMPLE));
    bad.nodes[1].status = 'up';
    expect(() => parseNodeListReport(bad)).toThrow('report.nodes[1].status must be one of "joined", "left"');
    expect(() => parseNodeListReport({ ...EXAMPLE, masterNodeId: '7' })).toThrow('report.masterNodeId must be an integer');
    expect(() => parseNodeListReport(null)).toThrow('report must be an object');
  });
});
