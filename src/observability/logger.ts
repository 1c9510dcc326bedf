/**
 * Where the gateway's log lines go: module `console` output (with the module, namespace and request id) and
 * failures worth an operator's attention. Secrets never reach it.
 * @public
 */
export interface Logger {
  /** Detail for debugging (module `console.debug`). */
  debug(message: string, fields?: Record<string, unknown>): void
  /** Normal events (module `console.log` and `console.info`). */
  info(message: string, fields?: Record<string, unknown>): void
  /** Something failed for one request (a hook threw, `console.warn`). */
  warn(message: string, fields?: Record<string, unknown>): void
  /** Something failed that an operator should look at (a module that can't load, `console.error`). */
  error(message: string, fields?: Record<string, unknown>): void
}

/** The default: warnings and errors to stderr as one JSON line each; debug and info dropped. */
export const stderrLogger: Logger = {
  debug() {},
  info() {},
  warn: (message, fields) => write('warn', message, fields),
  error: (message, fields) => write('error', message, fields),
}

function write(level: string, message: string, fields: Record<string, unknown> | undefined): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })}\n`)
}
