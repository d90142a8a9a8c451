import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

describe('generated types', () => {
  // tools/cli/generate-types.ts loads Prettier 3 and json-schema-to-typescript, whose dynamic imports Jest's VM
  // cannot run (--experimental-vm-modules): the check runs generateTypes(destination, { check: true }) in tsx.
  const root = path.resolve(__dirname, '..', '..')
  const files = [
    'src/generated-types.ts',
    'src/createAffiliate/generated-types.ts',
    'src/deleteAffiliate/generated-types.ts',
    'src/trackOrder/generated-types.ts',
    'src/cancelOrder/generated-types.ts',
    'src/addConversionTrigger/generated-types.ts'
  ]

  function check(checkRoot: string): string[] {
    const script =
      'import d from "./src/index"; import { generateTypes } from "./tools/cli/generate-types";' +
      `generateTypes(d as never, { check: true, root: ${JSON.stringify(checkRoot)} })` +
      '.then((stale) => console.log(JSON.stringify(stale)))'
    const out = execFileSync(path.join(root, 'node_modules', '.bin', 'tsx'), ['-e', script], {
      cwd: root,
      encoding: 'utf8'
    })
    return JSON.parse(out.trim().split('\n').pop() ?? '[]') as string[]
  }

  it('are fresh: generateTypes(destination, { check: true }) lists no stale file', () => {
    expect(check(root)).toEqual([])
  }, 20_000)

  it('the check catches a stale file (a copy of the tree with one edited generated file)', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'refersion-types-'))
    try {
      fs.copyFileSync(path.join(root, '.prettierrc'), path.join(tmp, '.prettierrc'))
      for (const file of files) {
        fs.mkdirSync(path.dirname(path.join(tmp, file)), { recursive: true })
        fs.copyFileSync(path.join(root, file), path.join(tmp, file))
      }
      const stale = path.join(tmp, 'src/deleteAffiliate/generated-types.ts')
      fs.writeFileSync(stale, fs.readFileSync(stale, 'utf8').replace('status?: string', 'status?: number'))
      expect(check(tmp)).toEqual([stale])
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true })
    }
  }, 20_000)
})
