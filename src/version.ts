/** The package version, shown by `signet --version`. */
export const VERSION = '0.1.0';
