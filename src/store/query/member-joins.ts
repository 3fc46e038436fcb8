/** Group `members` and User `groups` as SQL element sets: the membership joins and the group walk. */
import { type RawBuilder, type SqlBool, sql } from 'kysely'
import { ScimError } from '../../scim/errors.js'
import { USER_DISPLAY_SQL } from '../members.js'
import { type ElementSet, type FilterContext, type Operand, requireBaseUrl } from './context.js'
import { groupWalk } from './group-walk.js'
import { binaryOrder } from './json-sql.js'
import { concat } from './sql-bool.js'

/** A sub-attribute of an element (value, type, display, $ref): text, never null, not indexed. */
function text(expr: RawBuilder<unknown>): Operand {
  return { kind: 'text', expr, keyed: false, nullable: false }
}

/** A Group's members: users (group_members) and nested groups (group_parents) of this source. */
export function memberElements(ctx: FilterContext): ElementSet {
  return {
    open(alias) {
      const m = sql.raw(alias)
      return {
        from: sql`(select su.id as value, 'User' as type, ${USER_DISPLAY_SQL} as display, 0 as kind
          from group_members gm
          join scim_source_users su on su.user_id = gm.user_id
          join users u on u.id = gm.user_id
          where gm.group_id = r.group_id and su.source_id = ${ctx.sourceId}
          union all
          select sg.id, 'Group', g.name, 1
          from group_parents gp
          join scim_source_groups sg on sg.group_id = gp.group_id
          join groups g on g.id = gp.group_id
          where gp.parent_id = r.group_id and sg.source_id = ${ctx.sourceId}) as ${m}`,
        sub(definition) {
          switch (definition.name) {
            case 'value':
            case 'type':
            case 'display':
              return text(sql`${m}.${sql.raw(definition.name)}`)
            case '$ref': {
              const base = requireBaseUrl(ctx, 'members.$ref')
              const endpoint = sql`(case when ${m}.kind = 0 then ${sql.lit(`${base}/Users/`)} else ${sql.lit(`${base}/Groups/`)} end)`
              return text(concat(endpoint, sql`${m}.value`))
            }
            default:
              throw ScimError.invalidFilter(
                `Unknown attribute 'members.${definition.name}' in filter`,
              )
          }
        },
        order: [sql`${m}.kind`, binaryOrder(ctx.dialect, sql`${m}.value`)],
      }
    },
    // members.value is case-exact: the membership tables answer it exactly, through indexes
    // (the member's id, its memberships, then the groups' (source_id, id) rows).
    byValue: (value) => ({
      condition: sql<SqlBool>`r.id in (select sg.id from group_members gm
          join scim_source_users su on su.user_id = gm.user_id
          join scim_source_groups sg on sg.group_id = gm.group_id
          where su.source_id = ${ctx.sourceId} and su.id = ${value} and sg.source_id = ${ctx.sourceId}
        union all
        select sg.id from group_parents gp
          join scim_source_groups child on child.group_id = gp.group_id
          join scim_source_groups sg on sg.group_id = gp.parent_id
          where child.source_id = ${ctx.sourceId} and child.id = ${value} and sg.source_id = ${ctx.sourceId})`,
      exact: true,
    }),
  }
}

/** A User's groups (RFC 7643 §4.1.2): direct ones and those reached through nesting, as listGroupsOfUsers() computes them. */
export function userGroupElements(ctx: FilterContext): ElementSet {
  return {
    open(alias) {
      const g = sql.raw(alias)
      return {
        from: sql`(select w.id as value, w.name as display,
            case when w.depth = 0 then 'direct' else 'indirect' end as type
          from (${groupWalk(sql`= r.user_id`, ctx.sourceId)}) as w) as ${g}`,
        sub(definition) {
          switch (definition.name) {
            case 'value':
            case 'type':
            case 'display':
              return text(sql`${g}.${sql.raw(definition.name)}`)
            case '$ref': {
              const base = requireBaseUrl(ctx, 'groups.$ref')
              return text(concat(`${base}/Groups/`, sql`${g}.value`))
            }
            default:
              throw ScimError.invalidFilter(
                `Unknown attribute 'groups.${definition.name}' in filter`,
              )
          }
        },
        order: [binaryOrder(ctx.dialect, sql`${g}.value`)],
      }
    },
  }
}
