/** What a filter is compiled against, and the shapes the compiler works with: operands, element sets, targets. */
import type { RawBuilder } from 'kysely'
import { ScimError } from '../../scim/errors.js'
import type { FilterScope } from '../../scim/filter/resolve.js'
import type { AttributeDefinition } from '../../scim/schema/resource-types.js'
import type { Dialect } from '../database.js'
import type { JsonPlace } from './json-sql.js'
import type { Compiled } from './sql-bool.js'

/** What a filter is compiled against: the resource type, the dialect and the source. */
export interface FilterContext extends FilterScope {
  dialect: Dialect
  /** The source whose rows are filtered, so side-table lookups use their source-first indexes. */
  sourceId: string
  /** The source's SCIM base URL (`…/v2`), from which `meta.location` and `$ref` are built. */
  baseUrl?: string | undefined
}

/** How an attribute value is reached in SQL. */
export type Operand =
  | {
      kind: 'text'
      expr: RawBuilder<unknown>
      /** The column holds JavaScript-lower-cased text (a `*_key` column). */
      keyed: boolean
      nullable: boolean
      /** Fixed-format ASCII (ids, ISO timestamps): any collation orders it as bytes do. */
      byteOrdered?: boolean
    }
  | { kind: 'boolean'; place: JsonPlace }
  | { kind: 'const'; value: string | undefined }

/** One opened set of elements of a multi-valued attribute: a FROM item and its sub-attributes. */
export interface OpenedElements {
  from: RawBuilder<unknown>
  sub(definition: AttributeDefinition): Operand
  /** Orders elements as they are returned: primary first where there is one (RFC 7644 §3.4.2.3). */
  order: RawBuilder<unknown>[]
}

export interface ElementSet {
  open(alias: string): OpenedElements
  /**
   * A condition on `r` implied by "some element has value eq v", from an index, and whether
   * it is exactly that (then the element scan is skipped).
   */
  byValue?(value: string): { condition: Compiled; exact: boolean }
}

export type Target =
  | { kind: 'scalar'; operand: Operand }
  | {
      kind: 'complex'
      present: Compiled
      sub(definition: AttributeDefinition): Operand
    }
  | { kind: 'multi'; elements: ElementSet }

export function requireBaseUrl(ctx: FilterContext, what: string): string {
  if (ctx.baseUrl === undefined) {
    throw ScimError.invalidFilter(`'${what}' can be used only when SCIMD_BASE_URL is configured`)
  }
  return ctx.baseUrl
}
