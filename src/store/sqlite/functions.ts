/** SQL functions SQLite lacks, defined in JavaScript on every connection scimd opens. */
import type SQLite from 'better-sqlite3'
import { foldCase } from '../../scim/filter/semantics.js'

/**
 * foldCase() of scim/filter/semantics.ts: SQLite's lower() folds ASCII letters only, and the
 * filter semantics fold every script (`"élodie"` finds "Élodie"), as the `*_key` columns do.
 */
export const FOLD_CASE_FUNCTION = 'scimd_fold_case'

export function defineFunctions(sqlite: SQLite.Database): void {
  sqlite.function(FOLD_CASE_FUNCTION, { deterministic: true }, (text: unknown) =>
    typeof text === 'string' ? foldCase(text) : text,
  )
}
