// `corolistener -l`: the node table in the format of the VMmanager documentation
// (docs/design.md §1), which operators and their scripts already know:
//
//    VMmanager-cloud node list
//    =============================================================
//            Id               Ip    Status  Master/Slave  Priority
//             7    172.31.224.72    joined             M       100
//
// Every column is right-aligned to a fixed end; the widths below are measured from the
// documented example (11, 17, 10, 14 and 10 characters: 62 per line, the rule being one
// space and 61 `=`). A value that does not fit (an IPv6 address, a long id) WIDENS its
// column for the whole table so that every cell keeps at least two spaces before it; a
// value is never truncated, since a cut address or id would be silently wrong. The rule
// grows with the table. Rows appear in report order (the daemon reports configuration order).
import type { NodeListEntry, NodeListReport } from '../daemon/report';

export const NODE_TABLE_TITLE = ' VMmanager-cloud node list';

interface Column {
  header: string;
  /** Width in the documented example: the column ends this many characters after the previous one. */
  width: number;
  cell(node: NodeListEntry): string;
}

/** Gap kept before every cell when a column has to widen (the smallest gap in the example header). */
const MIN_GAP = 2;

const COLUMNS: readonly Column[] = [
  { header: 'Id', width: 11, cell: (n) => String(n.id) },
  { header: 'Ip', width: 17, cell: (n) => n.ip },
  { header: 'Status', width: 10, cell: (n) => n.status },
  { header: 'Master/Slave', width: 14, cell: (n) => n.role },
  { header: 'Priority', width: 10, cell: (n) => (n.priority === null ? '-' : String(n.priority)) },
];

// Values come from corosync.conf over a socket; a control character in one must not be able
// to break the table's lines or drive the operator's terminal.
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/**
 * Issue 18's flags, a column after the documented ones, shown only when a node has one or the
 * cluster is in maintenance (so the documented table is unchanged otherwise): `standby`, and
 * `maint` on every row while maintenance is on.
 */
const FLAGS: Column = {
  header: 'Flags',
  width: 16,
  cell: (n) => (n.standby === true ? 'standby' : '-'),
};

/** The table as printed by `corolistener -l`, ending with a newline. */
export function formatNodeTable(report: NodeListReport): string {
  const maintenance = report.cluster.maintenance === true;
  const flagged = maintenance || report.nodes.some((n) => n.standby === true);
  const flags: Column = { ...FLAGS, cell: (n) => [...(maintenance ? ['maint'] : []), ...(n.standby === true ? ['standby'] : [])].join(',') || '-' };
  const columns = flagged ? [...COLUMNS, flags] : COLUMNS;
  const rows = report.nodes.map((node) => columns.map((c) => printable(c.cell(node))));
  const widths = columns.map((c, i) => Math.max(c.width, ...rows.map((row) => row[i].length + MIN_GAP)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => cell.padStart(widths[i])).join('');
  const total = widths.reduce((a, b) => a + b, 0);
  const lines = [NODE_TABLE_TITLE, ` ${'='.repeat(total - 1)}`, line(columns.map((c) => c.header)), ...rows.map(line)];
  if (maintenance) lines.push(' maintenance mode: on (listeners watch and take no action)');
  return `${lines.join('\n')}\n`;
}

/** `corolistener -l --json`: the report itself, one JSON document and a newline. */
export function formatNodeListJson(report: NodeListReport): string {
  return `${JSON.stringify(report)}\n`;
}
