// The example of `corolistener -l` in docs/design.md §1 (the VMmanager documentation), verbatim,
// one string per line: what the node table tests (unit and integration) compare against.
export const DOCUMENTED_NODE_TABLE: readonly string[] = [
  ' VMmanager-cloud node list',
  ' =============================================================',
  '         Id               Ip    Status  Master/Slave  Priority',
  '          7    172.31.224.72    joined             M       100',
  '          9    172.31.224.74    joined             S        40',
  '         13    172.31.224.80    joined             S        10',
];
