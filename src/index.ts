// Public entry point of the corolistener package (the library VMmanager's node agent imports).
// Each module re-exports its public surface here as it lands.

// sandbox: real corosync clusters in network namespaces (`sandbox.createCluster(...)`); a
// namespace so its names never clash with the corosync binding's (Quorum, Cpg, ...).
export * as sandbox from './sandbox';
