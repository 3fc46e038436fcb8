/** The static list of migrations, so the Migrator works the same under tsx, vitest and dist/. */
import type { Migration } from 'kysely'
import * as createDirectory from './2026_11_23_2100_create_directory.js'
import * as createFilterIndexes from './2026_11_24_0900_create_filter_indexes.js'
import * as notifyCredentialChanges from './2026_11_24_1200_notify_credential_changes.js'
import * as createPropertyMappings from './2026_12_07_1900_create_property_mappings.js'
import * as linkSourceUsers from './2026_12_07_1900_link_source_users.js'

export const migrations: Record<string, Migration> = {
  '2026_11_23_2100_create_directory': createDirectory,
  '2026_11_24_0900_create_filter_indexes': createFilterIndexes,
  '2026_11_24_1200_notify_credential_changes': notifyCredentialChanges,
  '2026_12_07_1900_create_property_mappings': createPropertyMappings,
  '2026_12_07_1900_link_source_users': linkSourceUsers,
}
