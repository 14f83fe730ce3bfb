// Errors and warnings about configuration files. Every problem names the file, the 1-based
// line and column, and the field (dotted path such as `nodelist.node[2].prio`), so an operator
// can jump straight to it: `corosync.conf:12:5: nodelist.node[2].prio: must be an integer, got "high"`.

export type Severity = 'error' | 'warning';

export interface ConfigProblemInit {
  file: string;
  line: number;
  column: number;
  field: string;
  detail: string;
  severity?: Severity;
}

export class ConfigError extends Error {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly field: string;
  readonly detail: string;
  readonly severity: Severity;

  constructor(init: ConfigProblemInit) {
    super(`${init.file}:${init.line}:${init.column}: ${init.field}: ${init.detail}`);
    this.name = 'ConfigError';
    this.file = init.file;
    this.line = init.line;
    this.column = init.column;
    this.field = init.field;
    this.detail = init.detail;
    this.severity = init.severity ?? 'error';
  }

  override toString(): string {
    return this.message;
  }
}

/** Thrown when a document has errors: carries all of them (and the warnings) at once. */
export class ConfigValidationError extends Error {
  readonly errors: readonly ConfigError[];
  readonly warnings: readonly ConfigError[];

  constructor(errors: readonly ConfigError[], warnings: readonly ConfigError[] = []) {
    super(`${errors.length} configuration error${errors.length === 1 ? '' : 's'}:\n` + errors.map((e) => `  ${e.message}`).join('\n'));
    this.name = 'ConfigValidationError';
    this.errors = errors;
    this.warnings = warnings;
  }
}
