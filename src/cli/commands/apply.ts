import { createAdminClient } from '../../admin/client.js'
import { loadResourceFile } from '../../config/resources-file.js'
import type { GlobalOptions } from '../globals.js'
import { applyPlan, describePlan, planApply } from '../plan.js'

/** Options of `dgate apply`. */
export interface ApplyOptions {
  file: string
  prune: boolean
  dryRun: boolean
}

/**
 * `dgate apply -f resources.yaml [--prune] [--dry-run]`: prints the difference between the file and the live state,
 * then (unless `--dry-run`) makes the live state match. Applying the same file again changes nothing.
 */
export async function runApply(options: ApplyOptions, globals: GlobalOptions, print: (line: string) => void): Promise<void> {
  const client = createAdminClient(globals.admin, { ...(globals.key === undefined ? {} : { key: globals.key }), ...(globals.keyHeader === undefined ? {} : { keyHeader: globals.keyHeader }) })
  const resources = await loadResourceFile(options.file)
  const plan = await planApply(client, resources, { prune: options.prune, defaultNamespace: 'default' })
  for (const line of describePlan(plan)) print(line)
  if (options.dryRun || plan.steps.length === 0) return
  await applyPlan(client, plan)
  print('applied')
}
