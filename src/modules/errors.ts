/** A program could not be loaded into a runtime: its top-level code threw, or a hook export is not a function. */
export class ModuleLoadError extends Error {
  /** The entry module of the program. */
  readonly module: string
  constructor(module: string, reason: string) {
    super(`module "${module}" failed to load: ${reason}`)
    this.name = 'ModuleLoadError'
    this.module = module
  }
}
