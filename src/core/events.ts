/** The event log's records in authentik's shape: who did what to which object, from where. */

/**
 * authentik's EventAction values that scimd records. `custom_…` is authentik's prefix for
 * actions it does not know.
 */
export type EventAction =
  | 'model_created'
  | 'model_updated'
  | 'model_deleted'
  | 'secret_view'
  | 'secret_rotate'
  | 'login_failed'
  | 'suspicious_request'
  | 'configuration_error'
  | 'property_mapping_exception'
  | 'system_task_execution'
  | 'system_task_exception'
  | 'system_exception'
  | `custom_${string}`

/** The user an event is about or by (authentik's `user` JSON: a subset of the user). */
export interface EventUser {
  pk: number
  username: string
}

/** An object an event concerns, as authentik's model_to_dict names it. */
export interface EventModel {
  /** Django app label in authentik's terms, e.g. `authentik_core`, `authentik_sources_scim`. */
  app: string
  /** e.g. `user`, `group`, `token`, `scimsource`. */
  model_name: string
  pk: string | number
  name: string
}

/** The SCIM source an event concerns. */
export interface EventSource {
  id: string
  slug: string
}

export interface AuditEvent {
  id: string
  action: string
  app: string
  user: EventUser | null
  context: Record<string, unknown>
  clientIp: string | null
  created: string
  expires: string
}

/** Who acts in a request and from where: what every event of that request is recorded with. */
export interface AuditActor {
  user: EventUser | null
  clientIp: string | null
  /** Which part of scimd acted: `scimd.scim` (a source's SCIM client), `scimd.api`, `scimd.cli`. */
  app: string
}

/** The app names scimd records its events under (authentik records a Python module there). */
export const EVENT_APPS = {
  scim: 'scimd.sources.scim',
  api: 'scimd.api',
  /** The admin web UI (src/http/ui). */
  ui: 'scimd.ui',
  cli: 'scimd.cli',
  auth: 'scimd.auth',
  /** The outbound provider sync (src/sync). */
  provider: 'scimd.providers.scim',
  system: 'scimd',
} as const

/** authentik's model_to_dict names for scimd's objects. */
export function userModel(pk: number, username: string): EventModel {
  return { app: 'authentik_core', model_name: 'user', pk, name: username }
}

export function groupModel(id: string, name: string): EventModel {
  return { app: 'authentik_core', model_name: 'group', pk: id, name }
}

export function tokenModel(id: string, identifier: string): EventModel {
  return { app: 'authentik_core', model_name: 'token', pk: id, name: identifier }
}

export function providerModel(pk: number, name: string): EventModel {
  return { app: 'authentik_providers_scim', model_name: 'scimprovider', pk, name }
}

export function sourceModel(id: string, name: string): EventModel {
  return { app: 'authentik_sources_scim', model_name: 'scimsource', pk: id, name }
}

/** A provider's link to a remote user or group (authentik's SCIMProviderUser / …Group). */
export function providerObjectModel(kind: 'user' | 'group', id: string, name: string): EventModel {
  return { app: 'authentik_providers_scim', model_name: `scimprovider${kind}`, pk: id, name }
}

/** A property mapping: a source's (`scimsourcepropertymapping`) or a provider's (`scimmapping`). */
export function mappingModel(kind: 'source' | 'provider', id: string, name: string): EventModel {
  return kind === 'source'
    ? { app: 'authentik_sources_scim', model_name: 'scimsourcepropertymapping', pk: id, name }
    : { app: 'authentik_providers_scim', model_name: 'scimmapping', pk: id, name }
}
