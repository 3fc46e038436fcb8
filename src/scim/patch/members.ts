/** Group membership changes taken out of a PatchOp: membership is stored apart from the document. */
import { assertNever, ScimError } from '../errors.js'
import type { Filter } from '../filter/ast.js'
import { parseFilter } from '../filter/parse.js'
import { isJsonObject, type MemberRef, normalizeMembers } from '../normalize.js'
import { CORE_GROUP_URN } from '../schema/resource-types.js'
import { closingBracket } from './path.js'
import type { PatchOperation } from './request.js'

/** A change to a Group's membership, which is stored apart from the document. */
export type MemberChange =
  | { kind: 'add'; members: MemberRef[] }
  | { kind: 'remove'; values: string[] }
  | { kind: 'removeAll' }
  | { kind: 'replace'; members: MemberRef[] }

/**
 * Takes Group membership changes out of a PatchOp (membership lives in SQL, not in the
 * document), in order, recognising every client form: `members` add/replace with a value
 * list, `remove` by `members[value eq "…"]` (Okta, Entra with aadOptscim062020) or by a value
 * list (Entra's default, not RFC), `remove` of all members, and pathless add/replace whose
 * value carries `members` (Okta). The other operations are returned for `applyPatch`.
 */
export function splitMemberOperations(operations: readonly PatchOperation[]): {
  memberChanges: MemberChange[]
  operations: PatchOperation[]
} {
  const memberChanges: MemberChange[] = []
  const rest: PatchOperation[] = []
  const takeWithPath = (operation: PatchOperation & { path: string }) => {
    const path = parseMembersPath(operation.path)
    if (!path) {
      rest.push(operation)
    } else if (
      path.subAttribute !== undefined &&
      !(operation.op === 'remove' && path.values && path.subAttribute === 'value')
    ) {
      // RFC 7644 §3.12: value, $ref and type are immutable, display readOnly (RFC 7643 §4.2):
      // a member is added or removed as a whole, never edited in place.
      throw ScimError.mutability(
        `'${operation.path}': members.${path.subAttribute} cannot be changed; add or remove the member`,
      )
    } else if (path.values) {
      if (operation.op !== 'remove') {
        throw ScimError.invalidPath(`Only 'remove' may use a filter on members`)
      }
      memberChanges.push({ kind: 'remove', values: path.values })
    } else {
      const change = memberChange(operation.op, operation.value)
      if (change) memberChanges.push(change)
    }
  }
  for (const operation of operations) {
    if (operation.path !== undefined) {
      takeWithPath({ ...operation, path: operation.path })
      continue
    }
    // A pathless value's keys are paths (RFC 7644 §3.5.2.1): each one about members (`members`
    // from Okta, but also `members.display` or a filter) is taken as that path's operation.
    const value = operation.value
    const entries = isJsonObject(value) ? Object.entries(value) : []
    const aboutMembers = (key: string) => parseMembersPath(key) !== undefined
    const members = entries.filter(([key]) => aboutMembers(key))
    if (members.length === 0) {
      rest.push(operation)
      continue
    }
    for (const [key, item] of members) takeWithPath({ op: operation.op, path: key, value: item })
    const others = entries.filter(([key]) => !aboutMembers(key))
    if (others.length > 0) rest.push({ op: operation.op, value: Object.fromEntries(others) })
  }
  return { memberChanges, operations: rest }
}

function memberChange(op: PatchOperation['op'], value: unknown): MemberChange | undefined {
  const isAbsent = value === undefined || value === null
  switch (op) {
    case 'add':
      return isAbsent ? undefined : { kind: 'add', members: normalizeMembers(value) }
    case 'remove':
      // Entra (default) removes members with a value list, which RFC 7644 does not define.
      return isAbsent
        ? { kind: 'removeAll' }
        : { kind: 'remove', values: normalizeMembers(value).map((m) => m.value) }
    case 'replace':
      return { kind: 'replace', members: isAbsent ? [] : normalizeMembers(value) }
    default:
      return assertNever(op)
  }
}

/**
 * Recognises `members`, `members[value eq "…"]` (also an `or` of several) and
 * `members[value eq "…"].value`, optionally URN-qualified. Undefined when the path is not
 * about members at all.
 */
function parseMembersPath(path: string): { values?: string[]; subAttribute?: string } | undefined {
  let text = path.trim()
  const urnPrefix = `${CORE_GROUP_URN.toLowerCase()}:`
  if (text.toLowerCase().startsWith(urnPrefix)) text = text.slice(urnPrefix.length)
  const lower = text.toLowerCase()
  if (lower === 'members') return {}
  if (lower.startsWith('members.')) {
    return { subAttribute: memberSubAttribute(path, lower.slice('members.'.length)) }
  }
  if (!lower.startsWith('members[')) return undefined
  const open = 'members'.length
  const close = closingBracket(text, open)
  const after = text.slice(close + 1).toLowerCase()
  if (close === -1 || (after !== '' && !after.startsWith('.'))) {
    throw ScimError.invalidPath(`Invalid members path '${path}'`)
  }
  const values = memberFilterValues(parseFilter(text.slice(open + 1, close)))
  if (!values) {
    throw ScimError.invalidPath(
      `'${path}': members can only be selected with 'value eq "<id>"' (or several joined by 'or')`,
    )
  }
  return after === ''
    ? { values }
    : { values, subAttribute: memberSubAttribute(path, after.slice(1)) }
}

const MEMBER_SUB_ATTRIBUTES = new Set(['value', '$ref', 'type', 'display'])

/** A sub-attribute of members named in a path; an unknown one is invalidPath. */
function memberSubAttribute(path: string, name: string): string {
  if (!MEMBER_SUB_ATTRIBUTES.has(name)) {
    throw ScimError.invalidPath(`Unknown sub-attribute '${name}' of members in '${path}'`)
  }
  return name
}

function memberFilterValues(filter: Filter): string[] | undefined {
  if (filter.op === 'or') {
    const values: string[] = []
    for (const f of filter.filters) {
      const found = memberFilterValues(f)
      if (!found) return undefined
      values.push(...found)
    }
    return values
  }
  if (filter.op !== 'eq') return undefined
  const name = filter.attrPath.toLowerCase()
  if (name !== 'value' && name !== 'members.value') return undefined
  const value = filter.compValue
  if (typeof value === 'string' || typeof value === 'number') return [String(value)]
  return undefined
}
