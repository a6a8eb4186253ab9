/**
 * The SDK's typed errors. Each names what failed (endpoint, file, URL, destination) and why, so a
 * failure at 3 a.m. in a training job can be understood from its message alone.
 */
export class CairnError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A call was refused by the server: carries ClearML's result code, subcode and message. */
export class ApiCallError extends CairnError {
  constructor(
    readonly endpoint: string,
    readonly code: number,
    readonly subcode: number,
    readonly serverMessage: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(`${endpoint} failed with ${code}/${subcode}: ${serverMessage} (${url})`, options);
  }
}

/** The server could not be reached or answered something that is not ClearML's envelope. */
export class ConnectionError extends CairnError {
  constructor(readonly url: string, message: string, options?: { cause?: unknown }) {
    super(`${message} (${url})`, options);
  }
}

/** Credentials or server addresses are missing or wrong. */
export class ConfigError extends CairnError {}

/** The server answered a call with data that does not match the protocol's definition of the response. */
export class ProtocolError extends CairnError {
  constructor(readonly endpoint: string, readonly url: string, detail: string) {
    super(`${endpoint} answered data that does not match the protocol: ${detail} (${url})`);
  }
}

/** A caller passed arguments the operation cannot accept (Python's ValueError on the reference page). */
export class UsageError extends CairnError {}

/** A storage operation failed: names the URI and, where there is one, the local file. */
export class StorageError extends CairnError {
  constructor(readonly uri: string, message: string, options?: { cause?: unknown; file?: string }) {
    super(options?.file ? `${message} (uri: ${uri}, file: ${options.file})` : `${message} (uri: ${uri})`, options);
    this.file = options?.file;
  }
  readonly file: string | undefined;
}

/** Downloaded or cached bytes do not match the digest recorded on the model (decision 11). */
export class IntegrityError extends StorageError {
  constructor(uri: string, readonly expectedSha256: string, readonly actualSha256: string, options?: { file?: string }) {
    super(uri, `SHA-256 mismatch: expected ${expectedSha256}, got ${actualSha256}`, options);
  }
}

/** A weights upload failed (decision 4): names the file, the destination and the cause. */
export class UploadError extends CairnError {
  constructor(readonly file: string, readonly destination: string, options: { cause: unknown }) {
    super(`upload of ${file} to ${destination} failed: ${causeText(options.cause)}`, options);
  }
}

export function causeText(cause: unknown): string {
  if (cause instanceof Error) return cause.message || cause.name;
  return String(cause);
}
