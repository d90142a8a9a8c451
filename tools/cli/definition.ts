import type { DestinationDefinition } from '@segment/actions-core'

/**
 * The destination definition (default export of src/index.ts), loaded on demand: commands that do not need it
 * start faster, and the `serve` supervisor never loads — or crashes on — the destination's sources.
 */
export function loadDefinition(): DestinationDefinition<unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require('../../src/index') as { default?: DestinationDefinition<unknown> }
  if (!loaded.default) throw new Error('src/index.ts has no default export (the destination definition)')
  return loaded.default
}
