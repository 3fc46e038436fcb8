/** The shape of every admin list: a filter, an ordering, a page number and size; a page back. */
import type { OrderBy, Page } from '../store/admin-query.js'

export interface ListQuery<F, O extends string> {
  filter: F
  order: ReadonlyArray<OrderBy<O>>
  /** One-based page number (authentik's `page`). */
  page: number
  pageSize: number
}

export interface ListPage<T> {
  items: T[]
  /** How many match the filter in all. */
  count: number
}

/**
 * The rows of page `page` given `count` matches, or undefined when the page lies beyond the
 * end: the caller then answers an empty page without querying (so a page number of 10^30
 * costs one COUNT, and no OFFSET the database would reject).
 */
export function pageWindow(count: number, page: number, pageSize: number): Page | undefined {
  const offset = (page - 1) * pageSize
  if (!Number.isSafeInteger(offset) || offset >= count) return undefined
  return { offset, limit: pageSize }
}

/** Runs a count and, when the page is not beyond the end, the page query. */
export async function listPage<T>(
  query: { page: number; pageSize: number },
  count: () => Promise<number>,
  rows: (page: Page) => Promise<T[]>,
): Promise<ListPage<T>> {
  const total = await count()
  const window = pageWindow(total, query.page, query.pageSize)
  return { items: window ? await rows(window) : [], count: total }
}
