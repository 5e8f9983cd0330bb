// ESLint: typescript-eslint's recommended rules with type information off (fast enough for every
// `npm test`), React hooks rules for the add-in, Prettier owns formatting.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/', '.cache/', 'data/', 'dist/', 'server/public/build/', 'coverage/', 'test-artifacts/', 'server/db/embedded/launcher/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Every eslint-disable says why on its own line (`-- reason`).
      'no-warning-comments': 'off',
    },
  },
  {
    files: ['addin/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser, Office: 'readonly', OfficeRuntime: 'readonly' } },
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  { files: ['**/*.js', '**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  { files: ['test/stand-ins/office-host/*.js'], languageOptions: { globals: globals.browser } },
  prettier,
);
