/** Source rows. */
import type { Source } from '../domain.js'
import type { Executor, SourceRow, UpdateableSourceRow } from './database.js'

export function toSource(row: SourceRow): Source {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    enabled: row.enabled === 1,
    userMatchingMode: row.user_matching_mode,
    userPathTemplate: row.user_path_template,
    serviceAccountId: row.service_account_id,
    tokenId: row.token_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

export async function insertSource(
  db: Executor,
  source: { id: string; slug: string; name: string; enabled: boolean; now: string } & Partial<
    Pick<Source, 'userMatchingMode' | 'userPathTemplate'>
  >,
): Promise<void> {
  await db
    .insertInto('sources')
    .values({
      id: source.id,
      slug: source.slug,
      name: source.name,
      enabled: source.enabled ? 1 : 0,
      ...(source.userMatchingMode ? { user_matching_mode: source.userMatchingMode } : {}),
      ...(source.userPathTemplate ? { user_path_template: source.userPathTemplate } : {}),
      service_account_id: null,
      token_id: null,
      created_at: source.now,
      updated_at: source.now,
    })
    .execute()
}

export async function updateSource(
  db: Executor,
  id: string,
  row: UpdateableSourceRow,
): Promise<void> {
  await db.updateTable('sources').set(row).where('id', '=', id).execute()
}

export async function findSourceBySlug(db: Executor, slug: string): Promise<Source | undefined> {
  const row = await db.selectFrom('sources').selectAll().where('slug', '=', slug).executeTakeFirst()
  return row && toSource(row)
}

export async function findSourceById(db: Executor, id: string): Promise<Source | undefined> {
  const row = await db.selectFrom('sources').selectAll().where('id', '=', id).executeTakeFirst()
  return row && toSource(row)
}

export async function listSources(db: Executor): Promise<Source[]> {
  const rows = await db.selectFrom('sources').selectAll().orderBy('name').orderBy('slug').execute()
  return rows.map(toSource)
}

export async function deleteSource(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('sources').where('id', '=', id).execute()
}
