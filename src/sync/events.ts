/**
 * The events the provider sync records (docs/events.md): a finished or failed full sync, an
 * object the remote refused, a property mapping that failed. Never the token.
 */
import { EVENT_APPS, type EventAction, providerModel } from '../core/events.js'
import type { Logger } from '../logger.js'
import type { DatabaseHandle } from '../store/database.js'
import { recordEvent } from '../store/events.js'

/** What recording needs of the running server (a subset of the services' Deps). */
export interface EventDeps {
  db: DatabaseHandle
  logger: Logger
}

/**
 * Records one sync event about provider `provider`, in a statement of its own (the sync's
 * writes are not one transaction). Background work has no user or client address. An event
 * that cannot be written is logged, never fails the sync.
 */
export async function recordSyncEvent(
  deps: EventDeps,
  provider: { pk: number; name: string },
  action: EventAction,
  context: Record<string, unknown>,
): Promise<void> {
  const model = providerModel(provider.pk, provider.name)
  try {
    await recordEvent(deps.db, {
      action,
      app: EVENT_APPS.provider,
      user_pk: null,
      username: null,
      client_ip: null,
      source_id: null,
      source_slug: null,
      model_app: model.app,
      model_name: model.model_name,
      model_pk: String(model.pk),
      model_label: model.name,
      context: JSON.stringify(context),
      created: new Date().toISOString(),
    })
  } catch (err) {
    deps.logger.warn('event not recorded', {
      action,
      provider: provider.pk,
      error: err instanceof Error ? err.message : String(err),
    })
  }
}
