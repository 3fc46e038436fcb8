/** authentik's list conventions: `page`, `page_size`, `ordering`, and the pagination envelope. */
import type * as z from 'zod'
import { PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, type PaginationSchema } from './schemas.js'

export interface ListControls<F extends string> {
  page: number
  pageSize: number
  order: Array<{ field: F; descending: boolean }>
}

/**
 * The page, page size and ordering of a validated list query. A page size above the maximum
 * is lowered to it, as Django REST framework does; `ordering` was checked against the
 * allow-list by the query schema.
 */
export function listControls<F extends string>(query: {
  page?: number | undefined
  page_size?: number | undefined
  ordering?: string | undefined
}): ListControls<F> {
  const order = (query.ordering ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '' && f !== '-')
    .map((f) => ({ field: f.replace(/^-/, '') as F, descending: f.startsWith('-') }))
  return {
    page: query.page ?? 1,
    pageSize: Math.min(query.page_size ?? PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX),
    order,
  }
}

/**
 * authentik's envelope. `next`/`previous` are page numbers, 0 for none. A page beyond the end
 * is empty (authentik answers 404): its `previous` is the last page that has results.
 */
export function paginate<T>(
  controls: { page: number; pageSize: number },
  count: number,
  results: T[],
): { pagination: z.infer<typeof PaginationSchema>; results: T[] } {
  const { page, pageSize } = controls
  const totalPages = Math.max(1, Math.ceil(count / pageSize))
  const startIndex = results.length > 0 ? (page - 1) * pageSize + 1 : 0
  return {
    pagination: {
      next: page < totalPages ? page + 1 : 0,
      previous: page > 1 ? Math.min(page - 1, totalPages) : 0,
      count,
      current: page,
      total_pages: totalPages,
      start_index: startIndex,
      end_index: results.length > 0 ? startIndex + results.length - 1 : 0,
    },
    results,
  }
}

/** A query flag (`true`, `False`, `1`, …) as a boolean; undefined when absent. */
export function flag(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined
  return value === 'true' || value === 'True' || value === '1'
}

/** A filter that may be given once or repeated, as a list; undefined when absent. */
export function many<T extends string>(value: T | T[] | undefined): T[] | undefined {
  if (value === undefined) return undefined
  return Array.isArray(value) ? value : [value]
}
