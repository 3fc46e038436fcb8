/**
 * Whether a string is well-formed UTF-16, with no lone surrogate: what JSON's `\ud800`
 * escape can put into a string, and what UTF-8 (so PostgreSQL) cannot hold.
 * String.prototype.isWellFormed is ES2024, in Node 20; the project's lib is ES2023.
 */
export const isWellFormed = (s: string): boolean =>
  (s as string & { isWellFormed(): boolean }).isWellFormed()
