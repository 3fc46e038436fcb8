/** The nesting walk over group_parents: the groups a user is in, directly and through nesting. */
import { type RawBuilder, sql } from 'kysely'

/** Users' and groups' nesting depth: every walk over group_parents stops here. */
export const MAX_GROUP_DEPTH = 32

/** One row of groupWalk(): a user, a group of this source they are in, and how deep. */
export interface GroupWalkRow {
  user_id: number
  id: string
  name: string
  /** 0 for a direct membership (RFC 7643 §4.1.2 `direct`), more through nesting. */
  depth: number
}

/**
 * Every group of the source that users reach, directly or through nested groups, at their
 * smallest depth; `users` is the condition on group_members.user_id (`in (…)`, `= r.user_id`).
 * Both listGroupsOfUsers() and the `groups` filter of a User read it.
 */
export function groupWalk(users: RawBuilder<unknown>, sourceId: string): RawBuilder<GroupWalkRow> {
  return sql<GroupWalkRow>`
    with recursive reach(user_id, id, depth) as (
      select user_id, group_id, 0 from group_members where user_id ${users}
      union
      select reach.user_id, gp.parent_id, reach.depth + 1 from group_parents gp
        join reach on gp.group_id = reach.id
      where reach.depth < ${sql.lit(MAX_GROUP_DEPTH)}
    )
    select reach.user_id, g.id, g.name, min(reach.depth) as depth
    from reach
    join groups g on g.id = reach.id
    join scim_source_groups sg on sg.group_id = g.id and sg.source_id = ${sourceId}
    group by reach.user_id, g.id, g.name`
}
