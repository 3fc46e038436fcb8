/** The static list of migrations, so the Migrator works the same under tsx, vitest and dist/. */
import type { Migration } from 'kysely'
import * as createDirectory from './2026_11_23_2100_create_directory.js'

export const migrations: Record<string, Migration> = {
  '2026_11_23_2100_create_directory': createDirectory,
}
