// Shared jest settings: every package's jest.config.js spreads this.
// swc strips types only; `pnpm typecheck` is what checks them.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }
    ]
  },
  restoreMocks: true,
  // nock's interceptor lives on globals that jest would otherwise soft-delete between files (noisy warnings).
  testEnvironmentOptions: { globalsCleanup: 'off' },
  errorOnDeprecated: true
}
