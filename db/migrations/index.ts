/** The static list of migrations, so the Migrator works the same under tsx, vitest and dist/. */
import type { Migration } from 'kysely'
import * as createDirectory from './2026_11_23_2100_create_directory.js'
import * as createFilterIndexes from './2026_11_24_0900_create_filter_indexes.js'
import * as notifyCredentialChanges from './2026_11_24_1200_notify_credential_changes.js'
import * as neverReuseUserPks from './2026_12_07_1600_never_reuse_user_pks.js'
import * as recordSecretFingerprint from './2026_12_07_1600_record_secret_fingerprint.js'
import * as createProviders from './2026_12_07_1700_create_providers.js'
import * as createEvents from './2026_12_07_1800_create_events.js'
import * as createPropertyMappings from './2026_12_07_1900_create_property_mappings.js'
import * as linkSourceUsers from './2026_12_07_1900_link_source_users.js'
import * as createUiSessions from './2026_12_07_2000_create_ui_sessions.js'
import * as foldDisplayNameIndex from './2026_12_07_2100_fold_display_name_index.js'
import * as providerPropertyMappings from './2026_12_08_1000_provider_property_mappings.js'
import * as oneUserLinkIndex from './2026_12_09_1000_one_user_link_index.js'
import * as foldMatchingIndexes from './2026_12_09_1100_fold_matching_indexes.js'
import * as neverReuseProviderPks from './2026_12_09_1200_never_reuse_provider_pks.js'
import * as eventsInSequence from './2026_12_10_1000_events_in_sequence.js'

export const migrations: Record<string, Migration> = {
  '2026_11_23_2100_create_directory': createDirectory,
  '2026_11_24_0900_create_filter_indexes': createFilterIndexes,
  '2026_11_24_1200_notify_credential_changes': notifyCredentialChanges,
  '2026_12_07_1600_never_reuse_user_pks': neverReuseUserPks,
  '2026_12_07_1600_record_secret_fingerprint': recordSecretFingerprint,
  '2026_12_07_1700_create_providers': createProviders,
  '2026_12_07_1800_create_events': createEvents,
  '2026_12_07_2000_create_ui_sessions': createUiSessions,
  '2026_12_07_1900_create_property_mappings': createPropertyMappings,
  '2026_12_07_1900_link_source_users': linkSourceUsers,
  '2026_12_07_2100_fold_display_name_index': foldDisplayNameIndex,
  '2026_12_08_1000_provider_property_mappings': providerPropertyMappings,
  '2026_12_09_1000_one_user_link_index': oneUserLinkIndex,
  '2026_12_09_1100_fold_matching_indexes': foldMatchingIndexes,
  '2026_12_09_1200_never_reuse_provider_pks': neverReuseProviderPks,
  '2026_12_10_1000_events_in_sequence': eventsInSequence,
}
