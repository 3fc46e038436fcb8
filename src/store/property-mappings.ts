/** Property mapping rows, the admin list of them, and the sources that use them. */
import { type OrderBy, type Page, searchAny, toCount } from './admin-query.js'
import type { Executor, PropertyMappingRow } from './database.js'
import { preparedQuery } from './prepared.js'

export type MappingKind = 'source' | 'provider'

export interface PropertyMapping {
  id: string
  kind: MappingKind
  name: string
  managed: string | null
  expression: string
  createdAt: string
  updatedAt: string
}

function toMapping(row: PropertyMappingRow): PropertyMapping {
  return {
    id: row.id,
    kind: row.kind as MappingKind,
    name: row.name,
    managed: row.managed,
    expression: row.expression,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

const ORDER_COLUMNS = { name: 'm.name', managed: 'm.managed', pk: 'm.id' } as const
export type MappingOrderField = keyof typeof ORDER_COLUMNS
export const MAPPING_ORDER_FIELDS = Object.keys(ORDER_COLUMNS) as MappingOrderField[]

export interface MappingFilter {
  name?: string | undefined
  managed?: readonly string[] | undefined
  managedIsNull?: boolean | undefined
  search?: string | undefined
}

function filtered(db: Executor, kind: MappingKind, filter: MappingFilter) {
  let query = db.selectFrom('property_mappings as m').where('m.kind', '=', kind)
  if (filter.name !== undefined) query = query.where('m.name', '=', filter.name)
  if (filter.managed !== undefined && filter.managed.length > 0)
    query = query.where('m.managed', 'in', filter.managed)
  if (filter.managedIsNull !== undefined)
    query = query.where('m.managed', filter.managedIsNull ? 'is' : 'is not', null)
  const search = searchAny(['m.name'], filter.search)
  if (search) query = query.where(search)
  return query
}

export async function countMappings(
  db: Executor,
  kind: MappingKind,
  filter: MappingFilter,
): Promise<number> {
  const { n } = await filtered(db, kind, filter)
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow()
  return toCount(n)
}

export async function listMappings(
  db: Executor,
  kind: MappingKind,
  filter: MappingFilter,
  order: ReadonlyArray<OrderBy<MappingOrderField>>,
  page: Page,
): Promise<PropertyMapping[]> {
  let query = filtered(db, kind, filter).selectAll('m')
  const orders = order.length > 0 ? order : [{ field: 'name' as const, descending: false }]
  for (const o of orders)
    query = query.orderBy(ORDER_COLUMNS[o.field], o.descending ? 'desc' : 'asc')
  const rows = await query.orderBy('m.id').limit(page.limit).offset(page.offset).execute()
  return rows.map(toMapping)
}

export async function findMapping(
  db: Executor,
  kind: MappingKind,
  id: string,
): Promise<PropertyMapping | undefined> {
  const row = await db
    .selectFrom('property_mappings')
    .selectAll()
    .where('kind', '=', kind)
    .where('id', '=', id)
    .executeTakeFirst()
  return row && toMapping(row)
}

/** The mappings of this kind among `ids` (those that exist). */
export async function findMappingsByIds(
  db: Executor,
  kind: MappingKind,
  ids: readonly string[],
): Promise<PropertyMapping[]> {
  if (ids.length === 0) return []
  const rows = await db
    .selectFrom('property_mappings')
    .selectAll()
    .where('kind', '=', kind)
    .where('id', 'in', ids)
    .execute()
  return rows.map(toMapping)
}

const mappingById = preparedQuery((db, kind: string, id: string) =>
  db
    .selectFrom('property_mappings')
    .selectAll()
    .where('kind', '=', kind)
    .where('id', '=', id)
    .compile(),
)

/**
 * findMappingsByIds for the few ids a source lists, one prepared lookup each, in the order
 * given: the definitions a source's writes need (a Kysely-built `in` query cost a create of
 * such a source more than its SQLite work). Ids that name no `kind` mapping are left out.
 */
export async function findMappingsInOrder(
  db: Executor,
  kind: MappingKind,
  ids: readonly string[],
): Promise<PropertyMapping[]> {
  const found: PropertyMapping[] = []
  for (const id of ids) {
    const [row] = await mappingById(db, kind, id)
    if (row) found.push(toMapping(row))
  }
  return found
}

export async function insertMapping(db: Executor, m: PropertyMapping): Promise<void> {
  await db
    .insertInto('property_mappings')
    .values({
      id: m.id,
      kind: m.kind,
      name: m.name,
      managed: m.managed,
      expression: m.expression,
      created_at: m.createdAt,
      updated_at: m.updatedAt,
    })
    .execute()
}

export async function updateMapping(
  db: Executor,
  id: string,
  change: { name?: string; expression?: string; updatedAt: string },
): Promise<void> {
  await db
    .updateTable('property_mappings')
    .set({
      ...(change.name !== undefined ? { name: change.name } : {}),
      ...(change.expression !== undefined ? { expression: change.expression } : {}),
      updated_at: change.updatedAt,
    })
    .where('id', '=', id)
    .execute()
}

export async function deleteMapping(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('property_mappings').where('id', '=', id).execute()
}

/** A source that lists a mapping, and in which list. */
export interface MappingUse {
  sourceId: string
  sourceName: string
  user: string[]
  group: string[]
}

/**
 * The sources whose user or group mapping lists contain `id`. Sources are few, and the
 * lists are JSON text: a LIKE narrows the rows, the parse decides.
 */
export async function sourcesUsingMapping(db: Executor, id: string): Promise<MappingUse[]> {
  const rows = await db
    .selectFrom('sources')
    .select(['id', 'name', 'user_property_mappings', 'group_property_mappings'])
    .where((eb) =>
      eb.or([
        eb('user_property_mappings', 'like', `%${id}%`),
        eb('group_property_mappings', 'like', `%${id}%`),
      ]),
    )
    .orderBy('name')
    .execute()
  return rows
    .map((r) => ({
      sourceId: r.id,
      sourceName: r.name,
      user: JSON.parse(r.user_property_mappings) as string[],
      group: JSON.parse(r.group_property_mappings) as string[],
    }))
    .filter((u) => u.user.includes(id) || u.group.includes(id))
}

/** Sets a source's mapping lists. */
export async function setSourceMappings(
  db: Executor,
  sourceId: string,
  lists: { user?: readonly string[]; group?: readonly string[] },
): Promise<void> {
  await db
    .updateTable('sources')
    .set({
      ...(lists.user ? { user_property_mappings: JSON.stringify(lists.user) } : {}),
      ...(lists.group ? { group_property_mappings: JSON.stringify(lists.group) } : {}),
    })
    .where('id', '=', sourceId)
    .execute()
}

/**
 * Marks sources changed without changing them: on PostgreSQL the update notifies every
 * instance (migration 2026_11_24_1200), which then drops what it cached of those sources'
 * mappings (services/property-mappings.ts). Each column is set to itself as the row holds
 * it when updated, so a concurrent change of the lists is never undone.
 */
export async function touchSources(db: Executor, sourceIds: readonly string[]): Promise<void> {
  if (sourceIds.length === 0) return
  await db
    .updateTable('sources')
    .set((eb) => ({ user_property_mappings: eb.ref('user_property_mappings') }))
    .where('id', 'in', sourceIds)
    .execute()
}
