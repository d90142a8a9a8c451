import path from 'node:path'
import { fieldsToJsonSchema } from '@segment/actions-core'
import type { DestinationDefinition, InputField } from '@segment/actions-core'
import type { JSONSchema4 } from 'json-schema'
import { compile } from 'json-schema-to-typescript'
import prettier from 'prettier'

export const BANNER = '// Generated file. DO NOT MODIFY IT BY HAND.'

export interface GeneratedFile {
  file: string
  content: string
}

/**
 * The schema Segment's generator compiles: `title` and `enum` dropped at the top and, recursively, from the properties
 * of an object and the items of an array (nowhere else), so a string field with `choices` is typed `string` and
 * every field is documented inline rather than as an exported alias.
 */
export function withoutExtras(schema: JSONSchema4): JSONSchema4 {
  const out: JSONSchema4 = { ...schema }
  delete out.title
  delete out.enum
  if (out.type === 'object' && out.properties) {
    const properties: Record<string, JSONSchema4> = {}
    for (const [key, property] of Object.entries(out.properties)) properties[key] = withoutExtras(property)
    out.properties = properties
  } else if (out.type === 'array' && out.items && !Array.isArray(out.items)) {
    out.items = withoutExtras(out.items)
  }
  return out
}

/** Segment's generator formats with the Prettier settings of the repository it runs in; these are that repository's
 * (and this project's: .prettierrc). */
async function prettierStyle(root: string): Promise<prettier.Options> {
  return (await prettier.resolveConfig(path.join(root, 'src', 'index.ts'))) ?? {}
}

/** One generated-types file's content: json-schema-to-typescript's output, as Segment's `generate:types` writes it. */
async function render(fields: Record<string, InputField>, name: string, style: prettier.Options): Promise<string> {
  const schema = withoutExtras(fieldsToJsonSchema(fields, { tsType: true }) as JSONSchema4)
  return compile(schema, name, { bannerComment: BANNER, style })
}

/** The generated-types files the definition implies: Settings for the destination, Payload per action. */
export async function renderGeneratedTypes(
  definition: DestinationDefinition<unknown>,
  root = path.resolve(__dirname, '..', '..')
): Promise<GeneratedFile[]> {
  const style = await prettierStyle(root)
  const files: GeneratedFile[] = [
    {
      file: path.join(root, 'src', 'generated-types.ts'),
      content: await render((definition.authentication?.fields ?? {}) as Record<string, InputField>, 'Settings', style)
    }
  ]
  for (const [slug, action] of Object.entries(definition.actions)) {
    files.push({
      file: path.join(root, 'src', slug, 'generated-types.ts'),
      content: await render(action.fields as Record<string, InputField>, 'Payload', style)
    })
  }
  return files
}
