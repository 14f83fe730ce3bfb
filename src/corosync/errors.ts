// CorosyncError: a failed corosync call. `code` is the cs_error_t name from corotypes.h,
// `errno` its number. The addon creates these too (the class is handed to it at load time), so
// native and TypeScript errors are one class and `instanceof CorosyncError` always works.

/** cs_error_t values, as in /usr/include/corosync/corotypes.h. */
export const CS_ERRORS = {
  CS_OK: 1,
  CS_ERR_LIBRARY: 2,
  CS_ERR_VERSION: 3,
  CS_ERR_INIT: 4,
  CS_ERR_TIMEOUT: 5,
  CS_ERR_TRY_AGAIN: 6,
  CS_ERR_INVALID_PARAM: 7,
  CS_ERR_NO_MEMORY: 8,
  CS_ERR_BAD_HANDLE: 9,
  CS_ERR_BUSY: 10,
  CS_ERR_ACCESS: 11,
  CS_ERR_NOT_EXIST: 12,
  CS_ERR_NAME_TOO_LONG: 13,
  CS_ERR_EXIST: 14,
  CS_ERR_NO_SPACE: 15,
  CS_ERR_INTERRUPT: 16,
  CS_ERR_NAME_NOT_FOUND: 17,
  CS_ERR_NO_RESOURCES: 18,
  CS_ERR_NOT_SUPPORTED: 19,
  CS_ERR_BAD_OPERATION: 20,
  CS_ERR_FAILED_OPERATION: 21,
  CS_ERR_MESSAGE_ERROR: 22,
  CS_ERR_QUEUE_FULL: 23,
  CS_ERR_QUEUE_NOT_AVAILABLE: 24,
  CS_ERR_BAD_FLAGS: 25,
  CS_ERR_TOO_BIG: 26,
  CS_ERR_NO_SECTIONS: 27,
  CS_ERR_CONTEXT_NOT_FOUND: 28,
  CS_ERR_TOO_MANY_GROUPS: 30,
  CS_ERR_SECURITY: 100,
} as const;

export type CsErrorCode = keyof typeof CS_ERRORS;

const CODE_BY_ERRNO = new Map<number, CsErrorCode>(Object.entries(CS_ERRORS).map(([code, errno]) => [errno, code as CsErrorCode]));

export class CorosyncError extends Error {
  /** cs_error_t name, e.g. 'CS_ERR_LIBRARY'; 'CS_ERR_UNKNOWN' for a number corotypes.h lacks. */
  readonly code: CsErrorCode | 'CS_ERR_UNKNOWN';
  /** Numeric cs_error_t. */
  readonly errno: number;
  /** The corosync call that failed, e.g. 'cpg_join' or 'dispatch'. */
  readonly operation: string;

  /** `error` is a cs_error_t number or name. */
  constructor(error: number | CsErrorCode, operation: string) {
    const errno = typeof error === 'number' ? error : CS_ERRORS[error];
    const code = CODE_BY_ERRNO.get(errno) ?? 'CS_ERR_UNKNOWN';
    super(`${operation} failed: ${code} (${errno})`);
    this.name = 'CorosyncError';
    this.code = code;
    this.errno = errno;
    this.operation = operation;
  }
}

export function isTryAgain(error: unknown): boolean {
  return error instanceof CorosyncError && error.errno === CS_ERRORS.CS_ERR_TRY_AGAIN;
}
