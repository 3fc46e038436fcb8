/** Recognises database driver errors in one place, for SQLite and PostgreSQL alike. */

/** A unique constraint was violated (SQLite SQLITE_CONSTRAINT_UNIQUE / PRIMARYKEY, Postgres 23505). */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const code = (err as { code?: unknown }).code
  return (
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === '23505'
  )
}

/** A foreign key was violated (SQLite SQLITE_CONSTRAINT_FOREIGNKEY, Postgres 23503). */
export function isForeignKeyViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const code = (err as { code?: unknown }).code
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503'
}

/** A serialization failure or deadlock that a retry of the whole transaction resolves (Postgres). */
export function isRetryableConflict(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const code = (err as { code?: unknown }).code
  return code === '40001' || code === '40P01'
}
