import { FSWatcher, watch } from 'node:fs'
import path from 'node:path'

/**
 * Environment variable: the paths to watch instead of `src/` (relative to the repository root or absolute,
 * separated by the platform's path delimiter) — e.g. to watch a scratch directory only.
 */
export const WATCH_ENV = 'REFERSION_SERVE_WATCH'

export interface SourceWatcher {
  /** What is watched, for the start-up log. */
  readonly description: string
  close(): void
}

export interface WatchOptions {
  /** The repository root; `src/` below it is watched. */
  root: string
  onChange: (file: string) => void
  onError?: (message: string) => void
  env?: NodeJS.ProcessEnv
  debounceMs?: number
}

/**
 * Whether a change to `file` (relative to the watched directory) should reload the destination: TypeScript
 * sources, but not tests.
 */
export function isWatchedSource(file: string): boolean {
  const normal = file.split(path.sep).join('/')
  if (!normal.endsWith('.ts') || normal.endsWith('.test.ts')) return false
  return !/(^|\/)(__tests__|node_modules)\//.test(normal)
}

/**
 * Watches `src/**` (or the paths in $REFERSION_SERVE_WATCH) with `fs.watch` (recursive; native on Linux
 * and macOS in Node 20) and calls `onChange` once per burst of changes, with the first changed file.
 */
export function watchSources(options: WatchOptions): SourceWatcher {
  const env = options.env ?? process.env
  const src = path.join(options.root, 'src')
  const configured = (env[WATCH_ENV] ?? '')
    .split(path.delimiter)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => path.resolve(options.root, p))
  const roots = configured.length ? configured : [src]
  const watchers: FSWatcher[] = []
  let timer: NodeJS.Timeout | undefined
  let first: string | undefined

  const fire = (file: string) => {
    first ??= file
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => {
      const changed = first ?? file
      first = undefined
      timer = undefined
      options.onChange(changed)
    }, options.debounceMs ?? 100)
  }

  for (const dir of roots) {
    try {
      const watcher = watch(dir, { recursive: true }, (_event, filename) => {
        const name = filename ? filename.toString() : ''
        if (!name || !isWatchedSource(name)) return
        fire(path.relative(options.root, path.join(dir, name)) || name)
      })
      watcher.on('error', (error) => options.onError?.(`watching ${dir} failed: ${error.message}`))
      watchers.push(watcher)
    } catch (error) {
      options.onError?.(`cannot watch ${dir}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  const shown = roots.map((p) => {
    const relative = path.relative(options.root, p)
    return `${relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : p}/`
  })
  return {
    description: `${shown.join(', ')} (*.ts, except tests)`,
    close() {
      if (timer) clearTimeout(timer)
      for (const watcher of watchers) watcher.close()
    }
  }
}
