import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import type { DestinationDefinition } from '@segment/actions-core'
import { loadDefinition } from '../../tools/cli/definition'
import { generatedFiles, syncGenerated } from '../../tools/cli/generate'

const ROOT = path.resolve(__dirname, '..', '..')
const run = promisify(execFile)

/** Paths relative to root, sorted. */
const relative = (root: string, files: string[]) => files.map((file) => path.relative(root, file)).sort()

async function stale(definition: DestinationDefinition<unknown>, root: string): Promise<string[]> {
  return relative(root, await syncGenerated(await generatedFiles(definition, root), { check: true }))
}

/** A temporary copy of the repository's generated files (and what rendering them reads: .prettierrc). */
async function copyOfGenerated(): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'refersion-generated-'))
  fs.copyFileSync(path.join(ROOT, '.prettierrc'), path.join(tmp, '.prettierrc'))
  for (const file of relative(
    ROOT,
    (await generatedFiles(loadDefinition())).map(({ file }) => file)
  )) {
    fs.mkdirSync(path.dirname(path.join(tmp, file)), { recursive: true })
    fs.copyFileSync(path.join(ROOT, file), path.join(tmp, file))
  }
  return tmp
}

function edit(file: string, from: string, to: string): void {
  const text = fs.readFileSync(file, 'utf8')
  expect(text).toContain(from)
  fs.writeFileSync(file, text.replace(from, to))
}

describe('generated files (generated-types.ts, metadata.json)', () => {
  let tmp: string
  beforeEach(async () => {
    tmp = await copyOfGenerated()
  })
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }))

  it('are fresh: every one the definition implies is committed as it renders', async () => {
    const files = relative(
      ROOT,
      (await generatedFiles(loadDefinition())).map(({ file }) => file)
    )
    expect(files).toContain('src/metadata.json')
    expect(files).toContain('src/generated-types.ts')
    expect(await stale(loadDefinition(), ROOT)).toEqual([])
  })

  it('the check catches a hand-edited generated-types.ts and metadata.json, and writes nothing', async () => {
    edit(path.join(tmp, 'src/deleteAffiliate/generated-types.ts'), 'status?: string', 'status?: number')
    edit(path.join(tmp, 'src/metadata.json'), '"hasPerformBatch": true', '"hasPerformBatch": false')
    const before = fs.readFileSync(path.join(tmp, 'src/metadata.json'), 'utf8')
    expect(await stale(loadDefinition(), tmp)).toEqual(['src/deleteAffiliate/generated-types.ts', 'src/metadata.json'])
    expect(fs.readFileSync(path.join(tmp, 'src/metadata.json'), 'utf8')).toBe(before)
  })

  it('the check catches a missing metadata.json', async () => {
    fs.rmSync(path.join(tmp, 'src/metadata.json'))
    expect(await stale(loadDefinition(), tmp)).toEqual(['src/metadata.json'])
  })

  it('a changed definition makes its types and metadata.json stale; writing brings them back in line', async () => {
    const definition = loadDefinition()
    const { createAffiliate } = definition.actions
    const fields = {
      ...createAffiliate.fields,
      nickname: { label: 'Nickname', description: 'A nickname.', type: 'string' }
    }
    const changed = {
      ...definition,
      actions: { ...definition.actions, createAffiliate: { ...createAffiliate, fields } }
    }
    const expected = ['src/createAffiliate/generated-types.ts', 'src/metadata.json']
    expect(await stale(changed as DestinationDefinition<unknown>, tmp)).toEqual(expected)
    expect(
      relative(tmp, await syncGenerated(await generatedFiles(changed as DestinationDefinition<unknown>, tmp)))
    ).toEqual(expected)
    expect(fs.readFileSync(path.join(tmp, 'src/createAffiliate/generated-types.ts'), 'utf8')).toContain(
      'nickname?: string'
    )
    expect(await stale(changed as DestinationDefinition<unknown>, tmp)).toEqual([])
  })
})

describe('./bin/run generate:types [--check] and generate:metadata-payload (a copy of the project)', () => {
  let tmp: string
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'refersion-cli-'))
    for (const entry of ['bin', 'tools', 'src', '.prettierrc', 'package.json', 'tsconfig.json'])
      fs.cpSync(path.join(ROOT, entry), path.join(tmp, entry), { recursive: true })
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(tmp, 'node_modules'))
  })
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

  const bin = (...args: string[]) => run(path.join(tmp, 'bin', 'run'), args, { cwd: tmp })

  it('--check exits 1 listing the stale files; the commands write theirs', async () => {
    const types = path.join(tmp, 'src/deleteAffiliate/generated-types.ts')
    const metadata = path.join(tmp, 'src/metadata.json')
    const [typesText, metadataText] = [fs.readFileSync(types, 'utf8'), fs.readFileSync(metadata, 'utf8')]
    edit(types, 'status?: string', 'status?: number')
    fs.writeFileSync(metadata, `${JSON.stringify(JSON.parse(metadataText))}\n`)

    await expect(bin('generate:types', '--check')).rejects.toMatchObject({
      code: 1,
      stderr:
        'Generated files are out of date (run ./bin/run generate:types):\n' +
        '  src/deleteAffiliate/generated-types.ts\n  src/metadata.json\n'
    })
    expect(await bin('generate:metadata-payload')).toMatchObject({ stdout: 'Wrote:\n  src/metadata.json\n' })
    expect(fs.readFileSync(metadata, 'utf8')).toBe(metadataText)
    expect(await bin('generate:types')).toMatchObject({ stdout: 'Wrote:\n  src/deleteAffiliate/generated-types.ts\n' })
    expect(fs.readFileSync(types, 'utf8')).toBe(typesText)
    expect(await bin('generate:types', '--check')).toMatchObject({ stdout: 'Generated files are up to date.\n' })
  }, 60_000)
})
