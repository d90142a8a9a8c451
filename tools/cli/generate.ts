import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { DestinationDefinition } from '@segment/actions-core'
import type { GeneratedFile } from './generate-types'
import { renderGeneratedTypes } from './generate-types'
import { renderMetadata } from './metadata'

const ROOT = path.resolve(__dirname, '..', '..')

/** src/metadata.json, as Segment's `generate:metadata-payload` writes it. */
export function metadataFile(definition: DestinationDefinition<unknown>, root = ROOT): GeneratedFile {
  return { file: path.join(root, 'src', 'metadata.json'), content: renderMetadata(definition) }
}

/** Every file generated from the definition: the generated-types.ts files, then src/metadata.json. */
export async function generatedFiles(
  definition: DestinationDefinition<unknown>,
  root = ROOT
): Promise<GeneratedFile[]> {
  return [...(await renderGeneratedTypes(definition, root)), metadataFile(definition, root)]
}

/** The files whose content on disk differs (or that are missing); written unless `check`. Returns their paths. */
export async function syncGenerated(files: GeneratedFile[], options: { check?: boolean } = {}): Promise<string[]> {
  const stale: string[] = []
  for (const { file, content } of files) {
    const current = await fs.readFile(file, 'utf8').catch(() => undefined)
    if (current === content) continue
    stale.push(file)
    if (!options.check) await fs.writeFile(file, content)
  }
  return stale
}
