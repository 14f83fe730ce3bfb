// Public surface of src/config: corosync.conf (lossless parse, typed view, validation, minimal
// edits, atomic checked write) and vmmgr.conf.
export { ConfigError, ConfigValidationError, type Severity } from './config-error';
export { type ConfEntry, type ConfSection, type CorosyncConfDocument, parseCorosyncConf, serializeCorosyncConf } from './corosync-conf-document';
export { type CorosyncConfView, type CorosyncNode, type CorosyncInterface, viewCorosyncConf } from './corosync-conf-view';
export { type ValidationResult, validateCorosyncConf } from './corosync-conf-validate';
export { type PrioRaise, bumpConfigVersion, raiseNodePrioAboveOthers, setNodePrio, writeRaisedPriority } from './corosync-conf-edit';
export { type CorosyncCheckResult, corosyncCheckFile, findCorosync } from './corosync-check';
export { corosyncRefusalError } from './corosync-refusal';
export { type AtomicWriteOptions, atomicWriteFile } from '../util/atomic-file';
export {
  type LoadedCorosyncConf,
  type WriteCorosyncConfOptions,
  type WriteResult,
  decodeUtf8,
  editCorosyncConf,
  loadCorosyncConfText,
  readCorosyncConf,
  writeCorosyncConf,
} from './corosync-conf-file';
export { MAX_CONFIG_FILE_BYTES, readConfigText } from './config-file-text';
export { type VmmgrConf, defaultVmmgrConf, netmaskToPrefix, parseVmmgrConf, readVmmgrConf } from './vmmgr-conf';
