// The one error class of Ledge in JavaScript. The wasm module imports `makeLedgeError` and
// `recordPanic` from this file (it sits next to the generated glue), and the package re-exports
// `LedgeError`, so `err instanceof LedgeError` holds for every error Ledge throws.

/**
 * Every way a Ledge call can fail. `kind` is the core's error kind (`"ModelFormat"`,
 * `"InputShape"`, ...) or one of the JavaScript-side kinds `"Panic"` and `"ModelFreed"`;
 * the variant's fields (`expected`, `got`, `op`, `limit`, ...) are properties of the error.
 */
export class LedgeError extends Error {
  constructor(kind, message, details = {}) {
    const { cause, ...fields } = details;
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'LedgeError';
    this.kind = kind;
    for (const [key, value] of Object.entries(fields)) {
      if (!(key in this)) this[key] = value;
    }
  }
}

/** Called by the wasm module: builds the error it throws. */
export function makeLedgeError(kind, message, details) {
  return new LedgeError(kind, message, JSON.parse(details));
}

let lastPanic = null;

/** Called by the wasm module's panic hook just before the instance aborts. */
export function recordPanic(message) {
  lastPanic = message;
}

/** The message of the last panic, cleared on read. */
export function takePanic() {
  const m = lastPanic;
  lastPanic = null;
  return m;
}
