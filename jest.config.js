/** Type-checking is done once by `tsc --noEmit`; tests are only transpiled. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 20000,
  // Custom processors import the package by name; in tests that is the TypeScript source.
  moduleNameMapper: { '^otlp-log-processor$': '<rootDir>/src/index.ts' },
};
