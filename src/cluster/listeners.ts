/** A tiny typed event registry: adapters emit, the gateway listens. */
export class Listeners<Events extends { [E in keyof Events]: (...args: never[]) => void }> {
  readonly #map = new Map<keyof Events, Set<(...args: never[]) => void>>()

  on<E extends keyof Events>(event: E, fn: Events[E]): () => void {
    let set = this.#map.get(event)
    if (!set) this.#map.set(event, (set = new Set()))
    set.add(fn)
    return () => set.delete(fn)
  }

  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    const set = this.#map.get(event)
    if (!set) return
    for (const fn of set) {
      try {
        ;(fn as (...a: Parameters<Events[E]>) => void)(...args)
      } catch {
        // One listener's failure must not stop the others or the adapter.
      }
    }
  }
}
