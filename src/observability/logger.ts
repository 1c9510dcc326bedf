/**
 * Where the gateway's log lines go: module `console` output (with the module, namespace and request id) and
 * failures worth an operator's attention. Secrets never reach it.
 * @public
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
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
