/**
 * The admin API's zod schemas: request bodies, query strings and responses. The routes validate
 * with them and the OpenAPI document at /api/v3/schema/ is generated from them.
 */
// `z` from @hono/zod-openapi is zod itself, with `.openapi()` added for the document; taking it
// from there guarantees the extension is installed before any schema below uses it.
import { z } from '@hono/zod-openapi'
import { isRealDate } from '../../core/instant.js'
import { isWellFormed } from '../../core/unicode.js'
import {
  GROUP_CONNECTION_ORDER_FIELDS,
  USER_CONNECTION_ORDER_FIELDS,
} from '../../services/connections.js'
import { GROUP_ORDER_FIELDS, USER_ORDER_FIELDS } from '../../services/directory.js'
import { USER_MATCHING_MODES } from '../../services/matching.js'
import { MAPPING_ORDER_FIELDS } from '../../services/property-mappings.js'
import { SLUG_PATTERN, SOURCE_ORDER_FIELDS } from '../../services/sources.js'
import { TOKEN_ORDER_FIELDS } from '../../services/tokens.js'
import { REQUIRED } from './validation.js'

/** Django REST framework's messages, so authentik clients show what they know. */
export const MESSAGES = {
  null: 'This field may not be null.',
  blank: 'This field may not be blank.',
  string: 'Not a valid string.',
  boolean: 'Must be a valid boolean.',
  integer: 'A valid integer is required.',
  list: 'Expected a list of items.',
  nul: 'Null characters are not allowed.',
  /** Not DRF's: Python takes a lone surrogate, and then the database refuses it (a 500). */
  surrogate: 'Strings must be valid Unicode (a lone surrogate is not).',
  dict: 'Invalid data. Expected a dictionary.',
  slug: 'Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.',
  slugLength: 'Ensure this field has no more than 50 characters.',
  datetime:
    'Datetime has wrong format. Use one of these formats instead: YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.uuuuuu]](+HH:MM|-HH:MM|Z).',
} as const

/** The error for a value of the wrong type: missing, null or simply wrong. */
function typeError(wrongType: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined ? REQUIRED : issue.input === null ? MESSAGES.null : wrongType
}

/**
 * A text value: NUL characters are refused (PostgreSQL cannot store them, DRF refuses them),
 * and so are lone UTF-16 surrogates (PostgreSQL's driver would store U+FFFD instead).
 */
export function text() {
  return z
    .string({ error: typeError(MESSAGES.string) })
    .refine((v) => !v.includes('\u0000'), { error: MESSAGES.nul })
    .refine(isWellFormed, { error: MESSAGES.surrogate })
}

export function flag() {
  return z.boolean({ error: typeError(MESSAGES.boolean) })
}

export function object<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, { error: MESSAGES.dict })
}

/** A field of the response that a client may send back unchanged: accepted, and ignored. */
export function readOnly() {
  return z.unknown().optional().openapi({
    readOnly: true,
    description: 'Read-only: accepted and ignored, so that a retrieved object can be sent back.',
  })
}

/** A list of property mapping pks (the service checks that each exists). */
function mappingIds() {
  return z
    .array(text(), { error: typeError(MESSAGES.list) })
    .openapi({ description: 'Property mapping pks (uuid), applied in name order' })
}

const timestamp = z.string().openapi({ format: 'date-time', example: '2026-11-23T21:00:00.000Z' })
const attributes = z.record(z.string(), z.unknown())

// ---- common ---------------------------------------------------------------------------------

export const PaginationSchema = z
  .object({
    next: z.number().int().openapi({ description: 'Next page number, 0 if none' }),
    previous: z.number().int().openapi({ description: 'Previous page number, 0 if none' }),
    count: z.number().int().openapi({ description: 'Number of matching objects' }),
    current: z.number().int(),
    total_pages: z.number().int(),
    start_index: z.number().int(),
    end_index: z.number().int(),
  })
  .openapi('Pagination')

export function paginated<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({ pagination: PaginationSchema, results: z.array(item) })
    .openapi(`Paginated${name}List`)
}

export const ValidationErrorSchema = z
  .object({
    non_field_errors: z.array(z.string()).optional(),
    code: z.string().optional(),
  })
  .catchall(z.unknown())
  .openapi('ValidationError', {
    description: 'One list of messages per invalid field, e.g. {"slug": ["…"], "code": "invalid"}',
  })

export const GenericErrorSchema = z
  .object({ detail: z.string(), code: z.string().optional() })
  .openapi('GenericError')

/**
 * A whole number in a query string: decimal digits, with spaces around them allowed as
 * Python's int() allows them (not `1e3`, `0x10` or `1.0`, which Number() would read). One
 * past 2^53 is read as 2^53 - 1, so that pages far past the end stay integers.
 */
function wholeNumber() {
  return z
    .string({ error: MESSAGES.integer })
    .regex(/^\s*[0-9]+\s*$/, { error: MESSAGES.integer })
    .transform((digits) => Math.min(Number(digits), Number.MAX_SAFE_INTEGER))
}

/** Query parameters every list takes (authentik's pagination and search). */
export const PAGE_SIZE_MAX = 1000
export const PAGE_SIZE_DEFAULT = 100

const listParams = {
  // Any whole number, however large: a page beyond the end is an empty page, not an error.
  page: wholeNumber()
    .refine((n) => n >= 1, { error: 'Invalid page.' })
    .optional()
    .openapi({
      type: 'integer',
      minimum: 1,
      description: 'A page number within the paginated result set.',
    }),
  page_size: wholeNumber()
    .refine((n) => n >= 1, { error: 'Ensure this value is greater than or equal to 1.' })
    .optional()
    .openapi({
      type: 'integer',
      minimum: 1,
      description: `Number of results per page (default 100, at most ${PAGE_SIZE_MAX}).`,
    }),
  search: text().optional().openapi({ description: 'A search term.' }),
}

/** `ordering`: comma-separated fields of the allow-list, each with an optional `-` for descending. */
function ordering(fields: readonly string[]) {
  const allowed = new Set(fields)
  return text()
    .refine(
      (value) =>
        value
          .split(',')
          .map((f) => f.trim().replace(/^-/, ''))
          .every((f) => f === '' || allowed.has(f)),
      { error: `Order by one or more of: ${fields.join(', ')} (prefix "-" for descending).` },
    )
    .optional()
    .openapi({ description: `Which field to use when ordering the results: ${fields.join(', ')}.` })
}

const BOOLEAN_TEXT = ['true', 'false', 'True', 'False', '1', '0'] as const

export function boolParam() {
  return z.enum(BOOLEAN_TEXT, { error: MESSAGES.boolean }).optional()
}

/** A filter that may be repeated (`?type=a&type=b`). */
function manyParam() {
  return z.union([text(), z.array(text())], { error: MESSAGES.string }).optional()
}

function uuidText() {
  return text()
    .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, {
      error: 'Must be a valid UUID.',
    })
    .transform((v) => v.toLowerCase())
}

export function integerText() {
  return text().regex(/^[0-9]+$/, { error: MESSAGES.integer })
}

export function listQuery<S extends z.core.$ZodLooseShape>(
  orderFields: readonly string[],
  shape: S,
) {
  return z.object({ ...listParams, ordering: ordering(orderFields), ...shape })
}

export const SlugParams = z.object({
  slug: text().openapi({ param: { name: 'slug', in: 'path' }, example: 'entra' }),
})
export const IdentifierParams = z.object({
  identifier: text().openapi({ param: { name: 'identifier', in: 'path' } }),
})
export const IdParams = z.object({
  id: text().openapi({ param: { name: 'id', in: 'path' } }),
})
export const UserPkParams = z.object({
  id: text().openapi({
    param: { name: 'id', in: 'path' },
    description: 'A unique integer value identifying this User.',
  }),
})
export const GroupPkParams = z.object({
  // Django's UUIDField reads any case; scimd stores UUIDs in lower case.
  group_uuid: text()
    .transform((uuid) => uuid.toLowerCase())
    .openapi({
      param: { name: 'group_uuid', in: 'path' },
      format: 'uuid',
      description: 'A UUID string identifying this Group.',
    }),
})

// ---- directory objects ----------------------------------------------------------------------

export const USER_TYPES = [
  'internal',
  'external',
  'service_account',
  'internal_service_account',
] as const

/** authentik's `num_pk` (serializers.ts numPk), in Group, UserGroup and PartialGroup. */
const numPkField = z.number().int().openapi({
  description:
    "authentik's int32 id of the group, for LDAP's gidNumber: the first 5 decimal digits of its UUID as an integer; for scimd's own UUIDv7 ids, 10000 to 99999 from their random bits",
})

/** The fields every group body opens with. */
const groupHead = {
  pk: z.string().openapi({ format: 'uuid' }),
  num_pk: numPkField,
  name: z.string(),
  is_superuser: z.boolean(),
}

/** A group without its parents and children: authentik names it UserGroup in a user's groups_obj. */
export const UserGroupSchema = z.object({ ...groupHead, attributes }).openapi('UserGroup')

/** The fields every user body opens with. */
const userHead = {
  pk: z.number().int(),
  username: z.string(),
  name: z.string(),
  is_active: z.boolean(),
  last_login: timestamp.nullable(),
}

export const UserSchema = z
  .object({
    ...userHead,
    date_joined: timestamp,
    is_superuser: z.boolean(),
    groups: z.array(z.string().openapi({ format: 'uuid' })),
    groups_obj: z.array(UserGroupSchema).nullable(),
    email: z.string(),
    avatar: z.string(),
    attributes,
    uid: z.string(),
    path: z.string(),
    type: z.enum(USER_TYPES),
    uuid: z.string().openapi({ format: 'uuid' }),
    password_change_date: timestamp,
  })
  .openapi('User')

export const PartialUserSchema = z
  .object({ ...userHead, email: z.string(), attributes, uid: z.string() })
  .openapi('PartialUser')

export const GroupSchema = z
  .object({
    ...groupHead,
    parents: z.array(z.string().openapi({ format: 'uuid' })).openapi({
      description: 'Groups this group is a member of',
    }),
    children: z.array(z.string().openapi({ format: 'uuid' })).openapi({
      description: 'Groups that are members of this group',
    }),
    attributes,
  })
  .openapi('Group', {
    description:
      'A group. Its members are not embedded (a group may have millions): read them, paginated, from /core/groups/{group_uuid}/members/ or /core/users/?groups_by_pk=…',
  })

export const PartialGroupSchema = z.object({ ...groupHead, attributes }).openapi('PartialGroup')

/** authentik's UserRequest: what an admin sets on a local user. */
export const UserRequestSchema = object({
  username: text()
    .min(1, { error: MESSAGES.blank, abort: true })
    .max(150, { error: 'Ensure this field has no more than 150 characters.' }),
  name: text(),
  is_active: flag().optional(),
  last_login: instant().nullable().optional().openapi({ format: 'date-time' }),
  groups: z
    .array(uuidText(), { error: typeError(MESSAGES.list) })
    .optional()
    .openapi({ description: 'The local groups the user is a direct member of' }),
  email: text()
    .max(254, { error: 'Ensure this field has no more than 254 characters.' })
    .refine((v) => v === '' || /^[^@\s]+@[^@\s]+$/.test(v), {
      error: 'Enter a valid email address.',
    })
    .optional(),
  attributes: z.record(z.string(), z.unknown(), { error: typeError(MESSAGES.dict) }).optional(),
  path: text().min(1, { error: MESSAGES.blank }).optional(),
  type: z
    .enum(['internal', 'external', 'service_account'], {
      error: (issue) =>
        issue.input === null ? MESSAGES.null : `"${String(issue.input)}" is not a valid choice.`,
    })
    .optional(),
  roles: z.array(z.unknown()).max(0, { error: 'scimd has no roles.' }).optional(),
  pk: readOnly(),
  uuid: readOnly(),
  uid: readOnly(),
  avatar: readOnly(),
  is_superuser: readOnly(),
  groups_obj: readOnly(),
  date_joined: readOnly(),
  password_change_date: readOnly(),
}).openapi('UserRequest')

export const PatchedUserRequestSchema = UserRequestSchema.partial().openapi('PatchedUserRequest')

/** authentik's GroupRequest: what an admin sets on a local group. */
export const GroupRequestSchema = object({
  name: text().min(1, { error: MESSAGES.blank, abort: true }),
  is_superuser: flag().optional(),
  parents: z
    .array(uuidText(), { error: typeError(MESSAGES.list) })
    .optional()
    .openapi({ description: 'The local groups this group is a member of' }),
  users: z
    .array(z.number({ error: MESSAGES.integer }).int({ error: MESSAGES.integer }), {
      error: typeError(MESSAGES.list),
    })
    .optional()
    .openapi({ description: 'The user pks that are direct members (replaces them all)' }),
  attributes: z.record(z.string(), z.unknown(), { error: typeError(MESSAGES.dict) }).optional(),
  roles: z.array(z.unknown()).max(0, { error: 'scimd has no roles.' }).optional(),
  pk: readOnly(),
  num_pk: readOnly(),
  children: readOnly(),
  users_obj: readOnly(),
}).openapi('GroupRequest')

export const PatchedGroupRequestSchema = GroupRequestSchema.partial().openapi('PatchedGroupRequest')

/** add_user / remove_user: the user's pk. */
export const UserAccountSchema = object({
  pk: z.number({ error: typeError(MESSAGES.integer) }).int({ error: MESSAGES.integer }),
}).openapi('UserAccountRequest')

export const UserListQuery = listQuery(USER_ORDER_FIELDS, {
  username: text().optional(),
  name: text().optional(),
  email: text().optional(),
  uuid: text().optional(),
  path: text().optional(),
  path_startswith: text().optional(),
  is_active: boolParam(),
  is_superuser: boolParam(),
  type: z
    .union([z.enum(USER_TYPES), z.array(z.enum(USER_TYPES))], {
      error: `Select a valid choice: ${USER_TYPES.join(', ')}.`,
    })
    .optional(),
  groups_by_name: manyParam(),
  groups_by_pk: manyParam(),
})

export const MemberListQuery = listQuery(USER_ORDER_FIELDS, {})

export const GroupListQuery = listQuery(GROUP_ORDER_FIELDS, {
  name: text().optional(),
  is_superuser: boolParam(),
  members_by_pk: z.union([integerText(), z.array(integerText())]).optional(),
  members_by_username: manyParam(),
})

// ---- tokens ---------------------------------------------------------------------------------

export const TOKEN_INTENTS = ['verification', 'api', 'recovery', 'app_password'] as const

export const TokenSchema = z
  .object({
    pk: z.string().openapi({ format: 'uuid' }),
    managed: z.string().nullable(),
    identifier: z.string(),
    intent: z.enum(TOKEN_INTENTS),
    user: z.number().int(),
    user_obj: UserSchema,
    description: z.string(),
    expires: timestamp.nullable(),
    expiring: z.boolean(),
  })
  .openapi('Token', { description: 'An API token; its key is only ever shown by view_key.' })

/** ISO 8601: a date (midnight UTC), or a date and time with `Z` or an offset. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/

function instant() {
  return text().refine(
    (v) => ISO_INSTANT.test(v) && isRealDate(v) && !Number.isNaN(Date.parse(v)),
    {
      error: MESSAGES.datetime,
    },
  )
}

export const TokenPatchSchema = object({
  description: text().optional(),
  expires: instant().nullable().optional().openapi({ format: 'date-time' }),
  expiring: flag().optional(),
  pk: readOnly(),
  managed: readOnly(),
  identifier: readOnly(),
  intent: readOnly(),
  user: readOnly(),
  user_obj: readOnly(),
}).openapi('PatchedTokenRequest', {
  description:
    'Setting `expires` to an instant without `expiring` also sets `expiring: true`; `expires: null` sets it false.',
})

export const TokenListQuery = listQuery(TOKEN_ORDER_FIELDS, {
  identifier: text().optional(),
  intent: z.enum(TOKEN_INTENTS, { error: 'Select a valid choice.' }).optional(),
  description: text().optional(),
  managed: text().optional(),
  expiring: boolParam(),
  user__username: text().optional(),
})

export const TokenViewSchema = z.object({ key: z.string() }).openapi('TokenView')

export const SetKeySchema = object({
  key: text()
    .min(16, { error: 'Ensure this field has at least 16 characters.' })
    .max(512, { error: 'Ensure this field has no more than 512 characters.' })
    .regex(/^[\x21-\x7e]+$/, {
      error: 'A key is printable ASCII without spaces (it travels in an HTTP header).',
    }),
}).openapi('TokenSetKeyRequest')

// ---- sources --------------------------------------------------------------------------------

export const SourceSchema = z
  .object({
    pk: z.string().openapi({ format: 'uuid' }),
    name: z.string(),
    slug: z.string(),
    enabled: z.boolean(),
    user_property_mappings: z.array(z.string()),
    group_property_mappings: z.array(z.string()),
    component: z.string(),
    verbose_name: z.string(),
    verbose_name_plural: z.string(),
    meta_model_name: z.string(),
    user_matching_mode: z.enum(USER_MATCHING_MODES),
    managed: z.string().nullable(),
    user_path_template: z.string(),
    root_url: z.string().openapi({ description: 'Base URL the identity provider pushes to' }),
    token_obj: TokenSchema.nullable(),
  })
  .openapi('SCIMSource')

const slug = text()
  .min(1, { error: MESSAGES.blank, abort: true })
  .max(50, { error: MESSAGES.slugLength })
  .regex(SLUG_PATTERN, { error: MESSAGES.slug })

export const SourceRequestSchema = object({
  name: text().trim().min(1, { error: MESSAGES.blank }),
  slug,
  enabled: flag().optional(),
  user_path_template: text().trim().min(1, { error: MESSAGES.blank }).optional(),
  user_property_mappings: mappingIds().optional(),
  group_property_mappings: mappingIds().optional(),
  user_matching_mode: z
    .enum(USER_MATCHING_MODES, {
      error: (issue) =>
        issue.input === null ? MESSAGES.null : `"${String(issue.input)}" is not a valid choice.`,
    })
    .optional()
    .openapi({
      description:
        'How a user a source creates meets an existing directory user: never (identifier), linked by email or username (*_link), or refused with 409 (*_deny). Superusers and service accounts are never linked.',
    }),
  pk: readOnly(),
  component: readOnly(),
  verbose_name: readOnly(),
  verbose_name_plural: readOnly(),
  meta_model_name: readOnly(),
  managed: readOnly(),
  root_url: readOnly(),
  token_obj: readOnly(),
}).openapi('SCIMSourceRequest')

export const PatchedSourceRequestSchema = SourceRequestSchema.partial().openapi(
  'PatchedSCIMSourceRequest',
)

export const UsedBySchema = z
  .object({
    app: z.string(),
    model_name: z.string(),
    pk: z.string(),
    name: z.string(),
    action: z.enum(['cascade', 'cascade_many', 'set_null', 'set_default']),
  })
  .openapi('UsedBy')

export const SourceListQuery = listQuery(SOURCE_ORDER_FIELDS, {
  name: text().optional(),
  slug: text().optional(),
})

// ---- connection objects ---------------------------------------------------------------------

export const ScimSourceUserSchema = z
  .object({
    id: z.string().openapi({ description: 'The SCIM id' }),
    external_id: z.string().nullable(),
    user: z.number().int(),
    user_obj: PartialUserSchema,
    source: z.string().openapi({ format: 'uuid' }),
    attributes: attributes.openapi({ description: 'The SCIM resource as stored' }),
    last_update: timestamp,
  })
  .openapi('SCIMSourceUser')

export const ScimSourceGroupSchema = z
  .object({
    id: z.string().openapi({ description: 'The SCIM id' }),
    external_id: z.string().nullable(),
    group: z.string().openapi({ format: 'uuid' }),
    group_obj: PartialGroupSchema,
    source: z.string().openapi({ format: 'uuid' }),
    attributes: attributes.openapi({
      description: 'The SCIM resource as stored (members are not part of it)',
    }),
    last_update: timestamp,
  })
  .openapi('SCIMSourceGroup')

export const ScimUserListQuery = listQuery(USER_CONNECTION_ORDER_FIELDS, {
  source__slug: text().optional(),
  user__username: text().optional(),
  user__id: integerText().optional(),
})

export const ScimGroupListQuery = listQuery(GROUP_CONNECTION_ORDER_FIELDS, {
  source__slug: text().optional(),
  group__name: text().optional(),
  group__group_uuid: text().optional(),
})

// ---- property mappings ----------------------------------------------------------------------

export const PropertyMappingSchema = z
  .object({
    pk: z.string().openapi({ format: 'uuid' }),
    managed: z.string().nullable(),
    name: z.string(),
    expression: z.string().openapi({ description: 'A JSONata expression' }),
    component: z.string(),
    verbose_name: z.string(),
    verbose_name_plural: z.string(),
    meta_model_name: z.string(),
  })
  .openapi('SCIMPropertyMapping')

export const PropertyMappingRequestSchema = object({
  name: text().trim().min(1, { error: MESSAGES.blank }),
  expression: text().min(1, { error: MESSAGES.blank }),
  pk: readOnly(),
  managed: readOnly(),
  component: readOnly(),
  verbose_name: readOnly(),
  verbose_name_plural: readOnly(),
  meta_model_name: readOnly(),
}).openapi('SCIMPropertyMappingRequest')

export const PatchedPropertyMappingRequestSchema = PropertyMappingRequestSchema.partial().openapi(
  'PatchedSCIMPropertyMappingRequest',
)

export const PropertyMappingTestRequestSchema = object({
  user: z.number({ error: MESSAGES.integer }).int({ error: MESSAGES.integer }).optional(),
  group: text().optional().openapi({ format: 'uuid' }),
  context: z.record(z.string(), z.unknown(), { error: typeError(MESSAGES.dict) }).optional(),
}).openapi('PropertyMappingTestRequest')

export const PropertyMappingTestResultSchema = z
  .object({ result: z.string(), successful: z.boolean() })
  .openapi('PropertyMappingTestResult')

export const PropertyMappingListQuery = listQuery(MAPPING_ORDER_FIELDS, {
  name: text().optional(),
  managed: manyParam(),
  managed__isnull: boolParam(),
})

export const MappingPkParams = z.object({
  pm_uuid: text()
    .transform((uuid) => uuid.toLowerCase())
    .openapi({ param: { name: 'pm_uuid', in: 'path' }, format: 'uuid' }),
})
