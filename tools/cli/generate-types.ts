import { promises as fs } from 'node:fs'
import path from 'node:path'
import { fieldsToJsonSchema } from '@segment/actions-core'
import type { DestinationDefinition, InputField } from '@segment/actions-core'
import { compile } from 'json-schema-to-typescript'
import prettier from 'prettier'

export const BANNER = '// Generated file. DO NOT MODIFY IT BY HAND.'

export interface GeneratedFile {
  file: string
  content: string
}

// Property titles would become one exported alias per field; without them each field is documented inline.
function withoutTitles<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(withoutTitles) as T
  if (!schema || typeof schema !== 'object') return schema
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'title' && typeof value === 'string') continue
    out[key] = key === 'properties' || key === 'items' || typeof value === 'object' ? withoutTitles(value) : value
  }
  return out as T
}

async function render(fields: Record<string, InputField>, name: string, root: string): Promise<string> {
  const schema = withoutTitles(fieldsToJsonSchema(fields, { tsType: true }))
  const types = await compile(schema, name, { bannerComment: '', additionalProperties: false, format: false })
  const options = (await prettier.resolveConfig(path.join(root, 'src/index.ts'))) ?? {}
  return prettier.format(`${BANNER}\n\n${types}`, { ...options, parser: 'typescript' })
}

/** The generated-types files the definition implies: Settings for the destination, Payload per action. */
export async function renderGeneratedTypes(
  definition: DestinationDefinition<unknown>,
  root = path.resolve(__dirname, '..', '..')
): Promise<GeneratedFile[]> {
  const files: GeneratedFile[] = [
    {
      file: path.join(root, 'src', 'generated-types.ts'),
      content: await render((definition.authentication?.fields ?? {}) as Record<string, InputField>, 'Settings', root)
    }
  ]
  for (const [slug, action] of Object.entries(definition.actions)) {
    files.push({
      file: path.join(root, 'src', slug, 'generated-types.ts'),
      content: await render(action.fields as Record<string, InputField>, 'Payload', root)
    })
  }
  return files
}

/** Writes the files (or, with check, only lists the stale ones). Returns the stale/written paths. */
export async function generateTypes(
  definition: DestinationDefinition<unknown>,
  options: { check?: boolean; root?: string } = {}
): Promise<string[]> {
  const changed: string[] = []
  for (const { file, content } of await renderGeneratedTypes(definition, options.root)) {
    const current = await fs.readFile(file, 'utf8').catch(() => '')
    if (current === content) continue
    changed.push(file)
    if (!options.check) await fs.writeFile(file, content)
  }
  return changed
}
