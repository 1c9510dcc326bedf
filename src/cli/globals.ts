/** Options every command that talks to an admin API takes. */
export interface GlobalOptions {
  /** Admin API base URL (`--admin`, `DGATE_ADMIN_API`, default `http://localhost:9080`). */
  admin: string
  /** API key (`--key`, `DGATE_ADMIN_KEY`). */
  key?: string
  /** Header for the key (`--key-header`, `DGATE_ADMIN_KEY_HEADER`, default `X-DGate-Key`). */
  keyHeader?: string
}
