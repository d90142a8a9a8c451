import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

const root = path.resolve(__dirname, '..', '..')

/**
 * Compiles the package the way `npm run build` does (tsconfig.build.json, rootDir src) into a scratch directory
 * and loads its entry point in a plain Node process: what Segment's runtime and `require('<package>')` get.
 * The scratch directory sits under node_modules/.cache so the compiled files resolve the installed dependencies.
 */
describe('built output', () => {
  const cache = path.join(root, 'node_modules', '.cache')
  let outDir: string

  beforeAll(() => {
    fs.mkdirSync(cache, { recursive: true })
    outDir = fs.mkdtempSync(path.join(cache, 'refersion-build-'))
  })

  afterAll(() => {
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true })
  })

  it('compiles with tsconfig.build.json and its index.js default export is the destination', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string; types: string }
    expect(pkg.main).toBe('dist/index.js')
    expect(pkg.types).toBe('dist/index.d.ts')

    try {
      execFileSync(
        process.execPath,
        [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir],
        { cwd: root, encoding: 'utf8', stdio: 'pipe' }
      )
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string }
      throw new Error(`npm run build (tsc -p tsconfig.build.json) failed:\n${stdout ?? ''}${stderr ?? ''}`, {
        cause: error
      })
    }
    // `main` relative to the build's outDir: dist/index.js → <outDir>/index.js.
    const entry = path.join(outDir, path.relative('dist', pkg.main))
    expect(fs.existsSync(entry)).toBe(true)
    expect(fs.existsSync(path.join(outDir, 'index.d.ts'))).toBe(true)

    const script =
      'const d = require(process.argv[1]).default;' +
      'console.log(JSON.stringify({ name: d.name, slug: d.slug, mode: d.mode, actions: Object.keys(d.actions),' +
      ' onDelete: typeof d.onDelete, performBatch: Object.values(d.actions).map((a) => typeof a.performBatch) }))'
    const out = execFileSync(process.execPath, ['-e', script, entry], {
      cwd: outDir,
      encoding: 'utf8',
      env: { ...process.env, REFERSION_BASE_URL: '' }
    })
    expect(JSON.parse(out)).toEqual({
      name: 'Refersion (Actions)',
      slug: 'actions-refersion',
      mode: 'cloud',
      actions: [
        'createAffiliate',
        'deleteAffiliate',
        'trackOrder',
        'cancelOrder',
        'addConversionTrigger',
        'creditCommission',
        'creditOrder'
      ],
      onDelete: 'function',
      performBatch: Array(7).fill('function')
    })
  }, 20_000)
})
