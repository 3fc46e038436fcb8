/** The nesting walk over group_parents: how deep it follows groups in groups. */

/** Users' and groups' nesting depth: every walk over group_parents stops here. */
export const MAX_GROUP_DEPTH = 32
