// Public surface of src/config: corosync.conf (lossless parse, typed view, validation, minimal
// edits, atomic checked write) and vmmgr.conf.
export { ConfigError, ConfigValidationError, type Severity } from './configError';
export {
  type ConfEntry, type ConfSection, type CorosyncConfDocument, parseCorosyncConf, serializeCorosyncConf,
} from './corosyncConfDocument';
export { type CorosyncConfView, type CorosyncNode, type CorosyncInterface, viewCorosyncConf } from './corosyncConfView';
export { type ValidationResult, validateCorosyncConf } from './corosyncConfValidate';
export { type PrioRaise, bumpConfigVersion, raiseNodePrioAboveOthers, setNodePrio } from './corosyncConfEdit';
export { type CorosyncCheckResult, corosyncCheckFile, findCorosync } from './corosyncCheck';
export { corosyncRefusalError } from './corosyncRefusal';
export { type AtomicWriteOptions, atomicWriteFile } from '../util/atomic-file';
export {
  type LoadedCorosyncConf, type WriteCorosyncConfOptions, type WriteResult, decodeUtf8, editCorosyncConf, loadCorosyncConfText,
  readCorosyncConf, writeCorosyncConf,
} from './corosyncConfFile';
export { MAX_CONFIG_FILE_BYTES, readConfigText } from './configFileText';
export { type VmmgrConf, defaultVmmgrConf, netmaskToPrefix, parseVmmgrConf, readVmmgrConf } from './vmmgrConf';
