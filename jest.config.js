/**
 * Jest in native ESM mode: run with NODE_OPTIONS=--experimental-vm-modules (see package.json).
 * Two projects, so `npm test` runs both and `npm run test:unit` / `npm run test:e2e` one each:
 * - unit: every `*.spec.ts` under test/ (test/unit/ and the older specs at test/'s top level),
 *   in-process, no servers of their own beyond loopback sockets;
 * - e2e: every `*.e2e-spec.ts` under test/, and any spec under test/e2e/: real processes,
 *   real Redis, spawned from build/ (so `npm run build:all` first).
 * A spec file matches exactly one project, so none falls between them.
 */
const shared = {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
};

export default {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['**/*.spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/e2e/'],
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['**/*.e2e-spec.ts', '<rootDir>/test/e2e/**/*.spec.ts'],
    },
  ],
  testTimeout: 60000,
  // 2 cores shared with spawned mesh processes: one test file at a time (timing-sensitive e2e).
  maxWorkers: 1,
};
