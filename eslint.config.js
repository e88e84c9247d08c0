// Type-aware lint (STYLE.md habit 11): no-explicit-any and the no-unsafe-* family are errors.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'scripts/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unsafe-assignment': 'error',
      '@typescript-eslint/no-unsafe-member-access': 'error',
      '@typescript-eslint/no-unsafe-call': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
      '@typescript-eslint/no-unsafe-argument': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: 'Name every export (STYLE.md habit 10).' }],
      // Node 20 can deadlock exporting a freshly generated key as JWK: src/crypto/generate.ts explains, and generates keys that cannot.
      'no-restricted-imports': ['error', { paths: ['node:crypto', 'crypto'].map((name) => ({ name, importNames: ['generateKeyPair', 'generateKeyPairSync'], message: 'Use src/crypto/generate.ts (keys detached from their generation job).' })) }],
    },
  },
  {
    files: ['src/crypto/generate.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
    },
  },
);
