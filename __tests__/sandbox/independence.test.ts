import { readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'

const ROOT = path.resolve(__dirname, '..', '..')
const SANDBOX_DIR = path.join(ROOT, 'tools', 'sandbox')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name)
    return statSync(full).isDirectory() ? sourceFiles(full) : /\.[cm]?[jt]s$/.test(name) ? [full] : []
  })
}

/** Every module specifier in a file: static imports/exports, require() and import(). */
function specifiers(source: string): string[] {
  const found: string[] = []
  const patterns = [
    /\bfrom\s+['"]([^'"]+)['"]/g,
    /\bimport\s+['"]([^'"]+)['"]/g,
    /\b(?:require|import)\s*\(\s*['"]([^'"]+)['"]/g
  ]
  for (const re of patterns) for (const match of source.matchAll(re)) found.push(match[1])
  return found
}

describe('the sandbox is independent of the destination', () => {
  const files = sourceFiles(SANDBOX_DIR)

  it('finds the sandbox sources', () => {
    expect(files.map((f) => path.basename(f))).toEqual(expect.arrayContaining(['index.ts', 'api.ts', 'contract.ts']))
  })

  it('imports nothing from src/', () => {
    const offenders: string[] = []
    for (const file of files) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue
        const target = path.resolve(path.dirname(file), spec)
        if (!target.startsWith(SANDBOX_DIR + path.sep)) offenders.push(`${path.relative(ROOT, file)} → ${spec}`)
      }
    }
    expect(offenders).toEqual([])
  })

  it('the import check catches a relative import of src/', () => {
    expect(specifiers("import { x } from '../../src/lib/password'\nconst y = require('../../src/index')")).toEqual([
      '../../src/lib/password',
      '../../src/index'
    ])
  })

  it('names no file outside the repository in its sources', () => {
    const offenders = files.filter((file) => /\/work\/|shared\/REFERSION|\.\.\/shared/.test(readFileSync(file, 'utf8')))
    expect(offenders.map((f) => path.relative(ROOT, f))).toEqual([])
  })
})
