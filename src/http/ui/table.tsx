/** The one paged table of the admin UI: header cells, rows or an empty line, and the pager. */
import type { Child } from 'hono/jsx'
import { PAGE_SIZE } from './forms.js'
import { Pager } from './layout.js'

export interface PagerProps {
  /** The list's URL without a query; the pager adds `q` and `page`. */
  base: string
  q?: string
  page: number
  count: number
  pageSize?: number
  /** Other query parameters the list keeps from page to page. */
  extra?: Record<string, string>
}

/**
 * A table of one page of a list. `rows` are `<tr>` elements; with none, one row says
 * `empty`. Without `pager` the table is the whole list (a short one, or a sample).
 */
export function PagedTable(props: {
  columns: readonly string[]
  rows: readonly Child[]
  empty: string
  pager?: PagerProps
  caption?: string
}) {
  const { pager } = props
  return (
    <>
      <div class="table-wrap">
        <table>
          {props.caption ? <caption class="skip">{props.caption}</caption> : null}
          <thead>
            <tr>
              {props.columns.map((c) => (
                <th scope="col">{c}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.rows.length === 0 ? (
              <tr>
                <td colspan={props.columns.length} class="empty">
                  {props.empty}
                </td>
              </tr>
            ) : (
              props.rows
            )}
          </tbody>
        </table>
      </div>
      {pager ? (
        <Pager
          base={pager.base}
          q={pager.q ?? ''}
          page={pager.page}
          pageSize={pager.pageSize ?? PAGE_SIZE}
          count={pager.count}
          {...(pager.extra ? { extra: pager.extra } : {})}
          shown={props.rows.length}
        />
      ) : null}
    </>
  )
}
