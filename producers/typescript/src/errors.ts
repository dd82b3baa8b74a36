/** The root of every error the SDK throws. */
export class DuaError extends Error {
  override name = 'DuaError';
}

/**
 * An event that breaks the contract, refused by `emit` before anything is sent. `field` is a
 * dotted path (`actor.kind`, `elements[1]`, `attributes.<key>`), `code` one of the suite's codes.
 */
export class InvalidEventError extends DuaError {
  override name = 'InvalidEventError';
  readonly field: string;
  readonly code: string;

  constructor(field: string, code: string, detail: string) {
    super(`${field}: ${detail} (${code})`);
    this.field = field;
    this.code = code;
  }
}

/** A call on a client after `close()`. */
export class ClientClosedError extends DuaError {
  override name = 'ClientClosedError';
}

/** A message that cannot be decoded; `reason` is the suite's error kind (`truncated`, ...). */
export class UndecodableError extends DuaError {
  override name = 'UndecodableError';
  readonly reason: string;

  constructor(reason: string, detail: string) {
    super(`${reason}: ${detail}`);
    this.reason = reason;
  }
}
