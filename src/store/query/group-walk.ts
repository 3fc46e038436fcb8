/** The nesting walk over group_parents: the groups a user is in, directly and through nesting. */
import { type RawBuilder, sql } from 'kysely'

/** One row of groupWalk(): a user, a group of this source they are in, and how. */
export interface GroupWalkRow {
  user_id: number
  id: string
  name: string
  /** 0 for a direct membership (RFC 7643 §4.1.2 `direct`), 1 through nesting (`indirect`). */
  depth: number
}

/**
 * Every group of the source that users reach, directly or through nested groups;
 * `users` is the condition on group_members.user_id (`in (…)`, `= r.user_id`). Both
 * listGroupsOfUsers() and the `groups` filter of a User read it.
 *
 * The walk keeps only whether a group was reached directly, not how deep: `union` then
 * visits each (user, group) at most twice, so its work is bounded by the memberships it
 * finds and it needs no depth limit (it would end even on a cycle, which writes refuse).
 * With the depth in each row it visited a group once per path length, up to 32: a page of
 * 100 users in 300 groups nested as a ladder (each holding the two below) took 4 to 7 s,
 * now 0.2 to 0.6 s.
 */
export function groupWalk(users: RawBuilder<unknown>, sourceId: string): RawBuilder<GroupWalkRow> {
  return sql<GroupWalkRow>`
    with recursive reach(user_id, id, direct) as (
      select user_id, group_id, 1 from group_members where user_id ${users}
      union
      select reach.user_id, gp.parent_id, 0 from group_parents gp
        join reach on gp.group_id = reach.id
    )
    select reach.user_id, g.id, g.name, 1 - max(reach.direct) as depth
    from reach
    join groups g on g.id = reach.id
    join scim_source_groups sg on sg.group_id = g.id and sg.source_id = ${sourceId}
    group by reach.user_id, g.id, g.name`
}
