/**
 * Source property mappings: what an identity provider sends (`data`, the SCIM resource)
 * shaped into the directory user or group, on top of the built-in base properties.
 */
import { type MappingDefinition, MappingError, runMappings } from './engine.js'

/** The directory user's fields a source sets (authentik's user properties). */
export interface UserProperties {
  username: string
  name: string
  email: string
  is_active: boolean
  path: string
  /** Merged into the user's attributes (keys are added or replaced, never removed). */
  attributes: Record<string, unknown>
}

export interface GroupProperties {
  name: string
  attributes: Record<string, unknown>
}

/** What a source mapping sees of its source. */
export interface SourceInfo {
  slug: string
  name: string
  user_path_template: string
}

export type Mapped<T> = { skipped: false; properties: T } | { skipped: true; by: string }

function text(result: Record<string, unknown>, key: string, required: boolean): string {
  const value = result[key]
  if (typeof value === 'string' && (!required || value.trim() !== '')) return value
  throw new MappingError(
    'result',
    `'${key}' must be ${required ? 'a non-empty string' : 'a string'}, not ${JSON.stringify(value) ?? 'nothing'}`,
  )
}

function attributesOf(result: Record<string, unknown>): Record<string, unknown> {
  const value = result.attributes ?? {}
  if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
  throw new MappingError('result', `'attributes' must be an object`)
}

/**
 * The user's properties after the source's mappings (name order, deep-merged onto `base`,
 * the built-in mapping's result). Throws MappingError when a mapping fails or its merged
 * result does not fit a user.
 */
export async function mapSourceUser(
  mappings: readonly MappingDefinition[],
  data: Record<string, unknown>,
  source: SourceInfo,
  base: UserProperties,
): Promise<Mapped<UserProperties>> {
  const base_ = { ...base }
  const outcome = await runMappings(mappings, { data, source, properties: base_ }, base_)
  if (outcome.skipped) return outcome
  const r = outcome.result
  if (typeof r.is_active !== 'boolean') {
    throw new MappingError('result', `'is_active' must be true or false`)
  }
  return {
    skipped: false,
    properties: {
      username: text(r, 'username', true),
      name: text(r, 'name', false),
      email: text(r, 'email', false),
      is_active: r.is_active,
      path: text(r, 'path', true),
      attributes: attributesOf(r),
    },
  }
}

/** The group's properties after the source's group mappings; see mapSourceUser. */
export async function mapSourceGroup(
  mappings: readonly MappingDefinition[],
  data: Record<string, unknown>,
  source: SourceInfo,
  base: GroupProperties,
): Promise<Mapped<GroupProperties>> {
  const base_ = { ...base }
  const outcome = await runMappings(mappings, { data, source, properties: base_ }, base_)
  if (outcome.skipped) return outcome
  return {
    skipped: false,
    properties: {
      name: text(outcome.result, 'name', true),
      attributes: attributesOf(outcome.result),
    },
  }
}
