/**
 * @jest-config-loader esbuild-register
 */
import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts', '**/*.test.tsx'],
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript', tsx: true }, target: 'es2022', transform: { react: { runtime: 'automatic' } } }, module: { type: 'commonjs' } },
    ],
  },
  // otplib's base32 dependency (@scure/base) ships ES modules only: compile it to CommonJS like our code.
  transformIgnorePatterns: ['/node_modules/(?!(@scure|@noble|@otplib)/)'],
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
  verbose: false,
  reporters: ['default', '<rootDir>/test/harness/summary-reporter.js'],
};

export default config;
