'use strict'
// The project CLI: runs tools/cli/index.ts (TypeScript) through the locally installed tsx — no build step and no
// global install. Modules resolve relative to this file, so `./bin/run` works from any working directory.
const path = require('node:path')

require('tsx/cjs')
const { main } = require(path.join(__dirname, '..', 'tools', 'cli', 'index.ts'))

main(process.argv).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code
  },
  (error) => {
    console.error(error instanceof Error ? error.message : String(error))
    process.exitCode = 1
  }
)
