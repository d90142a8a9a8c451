/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // nock keeps module-level state that jest 30's global clean-up would otherwise warn about after each file.
  testEnvironmentOptions: { globalsCleanup: 'off' },
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: ['**/__tests__/**/*.test.ts'],
  // As in Segment's monorepo: shared test helpers and fixtures live in __tests__/__helpers__/ and are not tests.
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/__tests__/__helpers__/'],
  setupFiles: ['<rootDir>/__tests__/setup-env.js'],
  testTimeout: 30000,
  // Snapshots as jest 27 writes them (Segment's monorepo runs the tests under src/ with jest 27.5.1), so one .snap
  // file passes under both.
  snapshotFormat: { escapeString: true, printBasicPrototype: true },
  // A worker's heap grows from file to file (nock, actions-core, sandboxes); recycling it past this keeps the
  // timing-sensitive fault suites from running on a worker that is busy collecting garbage.
  workerIdleMemoryLimit: '512MB'
}
