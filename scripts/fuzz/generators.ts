/**
 * fast-check arbitraries for fuzz requests: filters, PATCH operations and paths, resource
 * bodies, query parameters, headers, content types and codings, huge and deeply nested JSON,
 * wrong tokens and raw HTTP. Each generated request is data (FuzzRequest), so a failing one
 * is saved and replayed as it was.
 */
import fc from 'fast-check'
import type { FuzzBody, FuzzRequest } from './request.js'

const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const SEARCH_URN = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest'
const SCIM = '/source/scim/{{slug}}/v2'

/** Strings that break things: escapes, surrogates, NUL, quotes, URL syntax, long runs. */
const nastyString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '\udfff',
    '"',
    '\\',
    '\\"',
    '%',
    '%00',
    '%ZZ',
    '&',
    '+',
    '#',
    '?',
    '[',
    ']',
    '(',
    ')',
    '\u202e',
    '\ufeff',
    'İ',
    'ß',
    'ǅ',
    'null',
    'true',
    '1e309',
    '-0',
    '9'.repeat(40),
    'a'.repeat(300),
    '2026-13-45T25:61:61Z',
    '2026-01-01T00:00:00Z',
    '../../etc/passwd',
    "' OR 1=1 --",
    '$where',
    '{{user}}',
    '{{group}}',
  ),
)

/** Mostly `good`, sometimes `bad`: most requests should get past the first check. */
function mostly<T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>): fc.Arbitrary<T | U> {
  return fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: bad })
}

const jsonScalar = fc.oneof(
  nastyString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 63, -1, 0, 1e308),
)

// ---- attribute names and paths ----------------------------------------------------------

const KNOWN_ATTRS = [
  'userName',
  'id',
  'externalId',
  'displayName',
  'nickName',
  'title',
  'active',
  'name',
  'name.givenName',
  'name.familyName',
  'name.formatted',
  'emails',
  'emails.value',
  'emails.type',
  'emails.primary',
  'phoneNumbers',
  'phoneNumbers.value',
  'addresses',
  'addresses.streetAddress',
  'addresses.primary',
  'members',
  'members.value',
  'members.display',
  'members.$ref',
  'groups',
  'groups.value',
  'meta',
  'meta.lastModified',
  'meta.created',
  'meta.version',
  'meta.resourceType',
  'password',
  'roles',
  'entitlements',
  'x509Certificates.value',
  'preferredLanguage',
  'locale',
  'timezone',
  'userType',
  'schemas',
  `${ENTERPRISE_URN}:employeeNumber`,
  `${ENTERPRISE_URN}:manager`,
  `${ENTERPRISE_URN}:manager.value`,
  `${ENTERPRISE_URN}:department`,
  `${USER_URN}:userName`,
  `${USER_URN}:name.givenName`,
  `${GROUP_URN}:displayName`,
  'urn:unknown:schema:attr',
  'unknownAttr',
  'name.unknown',
  'emails.value.deeper',
]

const attrName: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...KNOWN_ATTRS) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...KNOWN_ATTRS).chain((a) => fc.mixedCase(fc.constant(a))),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z$][\w$-]{0,12}(\.[\w$-]{1,8})?$/) },
  { weight: 1, arbitrary: nastyString },
)

/** Any JSON value, small. */
const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    jsonScalar,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(attrName, nastyString), tie('v'), { maxKeys: 4 }),
  ),
})).v

// ---- filters ----------------------------------------------------------------------------

const compareOp = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le') },
  { weight: 1, arbitrary: fc.constantFrom('EQ', 'Eq', 'pr', 'xx', '==', 'in', '') },
)

const filterValue = fc.oneof(
  nastyString.map((s) => JSON.stringify(s)),
  nastyString.map((s) => `"${s}"`),
  fc.integer().map(String),
  fc.double({ noNaN: true }).map(String),
  fc.constantFrom('true', 'false', 'null', 'True', '"2026-01-01T00:00:00Z"', '0.5e3', '-'),
  fc.stringMatching(/^[\w.@-]{1,12}$/),
)

const filter: fc.Arbitrary<string> = fc.letrec<{ f: string }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(attrName, compareOp, filterValue).map(([a, o, v]) => `${a} ${o} ${v}`),
    attrName.map((a) => `${a} pr`),
    fc
      .tuple(tie('f'), fc.constantFrom('and', 'or', 'AND', 'Or'), tie('f'))
      .map(([l, o, r]) => `${l} ${o} ${r}`),
    tie('f').map((f) => `not (${f})`),
    tie('f').map((f) => `(${f})`),
    fc.tuple(attrName, tie('f')).map(([a, f]) => `${a}[${f}]`),
  ),
})).f

/** A string with a few random edits: characters deleted, inserted, duplicated. */
function mutated(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const edit = fc.tuple(
    fc.nat(),
    fc.constantFrom('delete', 'insert', 'duplicate'),
    fc.oneof(
      fc.constantFrom('(', ')', '[', ']', '"', '\\', ' ', '.', ':', 'and ', 'not'),
      fc.string({ maxLength: 2 }),
    ),
  )
  return fc.tuple(base, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([s, edits]) => {
    let out = s
    for (const [at, how, text] of edits) {
      const i = out.length === 0 ? 0 : at % out.length
      if (how === 'delete') out = out.slice(0, i) + out.slice(i + 1)
      else if (how === 'insert') out = out.slice(0, i) + text + out.slice(i)
      else out = out.slice(0, i) + out.slice(i, i + 5) + out.slice(i)
    }
    return out
  })
}

const anyFilter = fc.oneof(
  { weight: 3, arbitrary: filter },
  { weight: 2, arbitrary: mutated(filter) },
)

/** PATCH paths: plain, sub-attribute, value filter with or without sub-attribute, URN. */
const patchPath = fc.oneof(
  { weight: 3, arbitrary: attrName },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom('emails', 'members', 'phoneNumbers', 'addresses', 'roles', 'groups'),
        anyFilter,
        fc.option(attrName, { nil: undefined }),
      )
      .map(([a, f, sub]) => `${a}[${f}]${sub ? `.${sub}` : ''}`),
  },
  { weight: 1, arbitrary: mutated(attrName) },
)

// ---- query strings ----------------------------------------------------------------------

function encode(s: string): string {
  // encodeURIComponent throws on a lone surrogate: send its UTF-8-less raw form instead.
  try {
    return encodeURIComponent(s)
  } catch {
    return s.replace(/[^\w.~-]/g, (c) => `%${c.charCodeAt(0).toString(16).slice(-2)}`)
  }
}

const queryParam = fc.oneof(
  anyFilter.map((f) => `filter=${encode(f)}`),
  fc.oneof(fc.integer().map(String), nastyString).map((v) => `startIndex=${encode(v)}`),
  fc.oneof(fc.integer().map(String), nastyString).map((v) => `count=${encode(v)}`),
  attrName.map((a) => `sortBy=${encode(a)}`),
  fc
    .oneof(fc.constantFrom('ascending', 'descending', 'DESC'), nastyString)
    .map((v) => `sortOrder=${encode(v)}`),
  fc.array(attrName, { maxLength: 4 }).map((a) => `attributes=${encode(a.join(','))}`),
  fc.array(attrName, { maxLength: 4 }).map((a) => `excludedAttributes=${encode(a.join(','))}`),
  fc.tuple(nastyString, nastyString).map(([k, v]) => `${encode(k)}=${encode(v)}`),
  // Raw, unencoded or broken escapes, as a careless client sends them.
  fc.constantFrom(
    'filter=userName eq "a b"',
    'filter=%',
    'count=%2',
    '=',
    '&&',
    'filter',
    'a=%E0%A4%A',
    'filter=%C0%AF',
    'count=1&count=2',
    'startIndex=1e3',
  ),
)

const queryString = fc
  .array(queryParam, { maxLength: 4 })
  .map((ps) => (ps.length === 0 ? '' : `?${ps.join('&')}`))

/** Writes mostly carry no query string: one fault at a time gets further. */
const writeQuery = mostly(fc.constant(''), queryString)

// ---- bodies -----------------------------------------------------------------------------

const email = fc.record(
  {
    value: fc.oneof(fc.emailAddress(), nastyString),
    type: fc.oneof(fc.constantFrom('work', 'home', 'other'), nastyString),
    primary: fc.oneof(fc.boolean(), fc.constantFrom('True', 'false', 1)),
  },
  { requiredKeys: ['value'] },
)

const userBody = fc
  .record(
    {
      schemas: mostly(
        fc.constantFrom([USER_URN], [USER_URN, ENTERPRISE_URN]),
        fc.array(nastyString, { maxLength: 2 }),
      ),
      userName: mostly(
        fc.oneof(
          fc.uuid().map((u) => `fuzz-${u}`),
          nastyString,
        ),
        jsonScalar,
      ),
      externalId: fc.oneof(fc.uuid(), nastyString),
      active: fc.oneof(fc.boolean(), fc.constantFrom('True', 'False', 'yes', 0)),
      displayName: nastyString,
      name: fc.oneof(
        fc.record({ givenName: nastyString, familyName: nastyString }, { requiredKeys: [] }),
        jsonValue,
      ),
      emails: mostly(fc.array(email, { maxLength: 4 }), fc.oneof(email, jsonValue)),
      phoneNumbers: fc.array(
        fc.record({ value: nastyString, type: nastyString }, { requiredKeys: [] }),
        { maxLength: 3 },
      ),
      groups: fc.array(fc.record({ value: fc.constantFrom('{{group}}', 'x') }), { maxLength: 2 }),
      password: nastyString,
      [ENTERPRISE_URN]: fc.oneof(
        fc.record(
          {
            employeeNumber: nastyString,
            manager: fc.oneof(
              fc.record({ value: fc.constantFrom('{{user}}', 'nobody') }),
              nastyString,
            ),
          },
          { requiredKeys: [] },
        ),
        jsonValue,
      ),
      id: fc.constantFrom('{{user}}', 'client-chosen'),
      meta: jsonValue,
    },
    { requiredKeys: ['schemas', 'userName'] },
  )
  .chain((body) =>
    // Unknown and oddly cased keys beside the known ones.
    fc.dictionary(attrName, jsonValue, { maxKeys: 2 }).map((extra) => ({ ...extra, ...body })),
  )

const groupBody = fc.record(
  {
    schemas: mostly(fc.constant([GROUP_URN]), fc.array(nastyString, { maxLength: 2 })),
    displayName: fc.oneof(
      fc.uuid().map((u) => `fuzz-${u}`),
      nastyString,
      jsonScalar,
    ),
    externalId: nastyString,
    members: fc.oneof(
      fc.array(
        fc.record(
          {
            value: fc.constantFrom('{{user}}', '{{group}}', '{{fresh}}', 'nope', ''),
            type: fc.constantFrom('User', 'Group', 'x'),
            display: nastyString,
            $ref: fc.oneof(fc.constant(null), nastyString),
          },
          { requiredKeys: ['value'] },
        ),
        { maxLength: 5 },
      ),
      jsonValue,
    ),
  },
  { requiredKeys: ['schemas', 'displayName'] },
)

const patchOp = fc.record(
  {
    op: fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom('add', 'replace', 'remove', 'Add', 'Replace', 'Remove'),
      },
      { weight: 1, arbitrary: nastyString },
    ),
    path: patchPath,
    value: fc.oneof(
      jsonValue,
      fc.constantFrom(
        [{ value: '{{user}}' }],
        [{ value: '{{group}}' }],
        [{ value: 'x@example.com', type: 'work' }],
        { active: false },
        { 'name.givenName': 'G', [`${ENTERPRISE_URN}:department`]: 'D' },
        'False',
        [],
      ),
    ),
  },
  { requiredKeys: ['op'] },
)

/** Operations a real client sends, with values of the right shape, so PATCH gets deep. */
const plausibleOp = fc.oneof(
  fc.record({
    op: fc.constantFrom('add', 'replace', 'Add', 'Replace'),
    path: fc.constantFrom(
      'title',
      'displayName',
      'name.givenName',
      'nickName',
      'externalId',
      `${ENTERPRISE_URN}:department`,
    ),
    value: nastyString,
  }),
  fc.record({
    op: fc.constantFrom('add', 'replace', 'remove'),
    path: fc.constantFrom(
      'emails[type eq "work"].value',
      'emails[primary eq true].value',
      'phoneNumbers[type eq "mobile"].value',
    ),
    value: fc.oneof(fc.emailAddress(), nastyString),
  }),
  fc.record({
    op: fc.constantFrom('add', 'remove', 'replace'),
    path: fc.constantFrom('members', 'emails', 'members[value eq "{{user}}"]'),
    value: fc.constantFrom(
      [{ value: '{{user}}' }],
      [{ value: '{{fresh}}' }],
      [{ value: 'a@example.com', type: 'work' }],
      [],
    ),
  }),
  fc.record({
    op: fc.constantFrom('replace', 'Replace'),
    value: fc.constantFrom(
      { active: false },
      { active: 'True' },
      { displayName: 'D', 'name.familyName': 'F' },
      { members: [{ value: '{{user}}' }] },
    ),
  }),
)

const patchBody = fc.record(
  {
    schemas: mostly(fc.constant([PATCH_URN]), fc.array(nastyString, { maxLength: 2 })),
    Operations: fc.oneof(
      { weight: 5, arbitrary: fc.array(patchOp, { maxLength: 6 }) },
      {
        weight: 5,
        arbitrary: fc.array(fc.oneof(plausibleOp, plausibleOp, patchOp), {
          minLength: 1,
          maxLength: 6,
        }),
      },
      { weight: 1, arbitrary: jsonValue },
    ),
  },
  { requiredKeys: ['schemas'] },
)

const searchBody = fc.record(
  {
    schemas: mostly(fc.constant([SEARCH_URN]), fc.array(nastyString, { maxLength: 2 })),
    filter: fc.oneof(anyFilter, jsonScalar),
    startIndex: fc.oneof(fc.integer(), nastyString),
    count: fc.oneof(fc.integer(), nastyString),
    sortBy: attrName,
    sortOrder: nastyString,
    attributes: fc.oneof(fc.array(attrName, { maxLength: 3 }), jsonScalar),
    excludedAttributes: fc.oneof(fc.array(attrName, { maxLength: 3 }), jsonScalar),
  },
  { requiredKeys: ['schemas'] },
)

/** A JSON text mutated at the byte level: truncated, characters swapped, BOM, garbage. */
function mangledJson(value: fc.Arbitrary<unknown>): fc.Arbitrary<FuzzBody> {
  return fc
    .tuple(
      value,
      fc.nat(),
      fc.constantFrom('truncate', 'bom', 'utf16', 'latin1', 'trailing', 'swap', 'none'),
    )
    .map(([v, at, how]): FuzzBody => {
      const text = JSON.stringify(v) ?? 'null'
      const i = text.length === 0 ? 0 : at % text.length
      switch (how) {
        case 'truncate':
          return { text: text.slice(0, i) }
        case 'bom':
          return { text: `\ufeff${text}` }
        case 'utf16':
          return { base64: Buffer.from(text, 'utf16le').toString('base64') }
        case 'latin1':
          return {
            base64: Buffer.from(
              `${text.slice(0, i)}\u00e9\u00ff${text.slice(i)}`,
              'latin1',
            ).toString('base64'),
          }
        case 'trailing':
          return { text: `${text} ,` }
        case 'swap':
          return {
            text: `${text.slice(0, i)}${text.slice(i + 1, i + 2)}${text.slice(i, i + 1)}${text.slice(i + 2)}`,
          }
        default:
          return { text }
      }
    })
}

const jsonBody = (value: fc.Arbitrary<unknown>): fc.Arbitrary<FuzzBody> =>
  fc.oneof(
    { weight: 4, arbitrary: value.map((v) => ({ text: JSON.stringify(v) ?? 'null' })) },
    { weight: 1, arbitrary: mangledJson(value) },
  )

// ---- headers ----------------------------------------------------------------------------

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('application/scim+json', 'application/json') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'application/scim+json; charset=utf-8',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      '*/*',
      ';;;',
      'APPLICATION/SCIM+JSON',
    ),
  },
)

const authHeader = fc.oneof(
  { weight: 12, arbitrary: fc.constant('Bearer {{key}}') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      'Bearer',
      'Bearer ',
      'bearer {{key}}',
      'Bearer {{key}}x',
      'Bearer {{adminKey}}',
      'Basic dXNlcjpwYXNz',
      'Token {{key}}',
      `Bearer ${'A'.repeat(4000)}`,
      'Bearer {{key}} {{key}}',
      'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
    ),
  },
  { weight: 1, arbitrary: nastyString.map((s) => `Bearer ${s}`) },
)

const someHeaders = fc.record(
  {
    accept: fc.constantFrom(
      'application/json',
      'application/scim+json',
      'text/html',
      '*/*',
      'application/xml',
      '',
    ),
    'if-match': fc.oneof(fc.constantFrom('*', 'W/"1"', '"1"', 'W/"999"', '', '""'), nastyString),
    'if-none-match': fc.oneof(fc.constantFrom('*', 'W/"1"', '"1"'), nastyString),
    'content-encoding': fc.constantFrom(
      'gzip',
      'deflate',
      'br',
      'identity',
      'x-garbage',
      'gzip, gzip',
    ),
    'x-request-id': nastyString,
    'accept-encoding': fc.constantFrom('gzip', 'br', '*', 'identity;q=0'),
    'x-forwarded-for': fc.constantFrom('1.2.3.4', 'garbage', '::1'),
  },
  { requiredKeys: [] },
)

/** Mostly none: one fault at a time gets further. */
const extraHeaders = mostly(fc.constant<Record<string, string>>({}), someHeaders)

function headers(authorization: string, type: string | undefined, extra: Record<string, string>) {
  const out: Record<string, string> = { ...extra }
  if (authorization !== '') out.authorization = authorization
  if (type !== undefined) out['content-type'] = type
  return out
}

// ---- requests ---------------------------------------------------------------------------

const resourcePath = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '/Users/{{user}}',
      '/Groups/{{group}}',
      '/Users/{{fresh}}',
      '/Groups/{{freshGroup}}',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.uuid().map((u) => `/Users/${u}`),
      nastyString.map((s) => `/Users/${encode(s)}`),
      fc.constantFrom(
        '/Users/{{group}}',
        '/Groups/{{user}}',
        '/Users/%2e%2e',
        '/Users/.search',
        '/Groups/',
        '/Users//x',
        '/Users/{{USER}}',
      ),
    ),
  },
)

/** The kinds of request, each an arbitrary of FuzzRequest; weights favour the SCIM core. */
const kinds: Record<string, { weight: number; arbitrary: fc.Arbitrary<FuzzRequest> }> = {
  'list-filter': {
    weight: 14,
    arbitrary: fc
      .tuple(
        fc.constantFrom('/Users', '/Groups', '/Users/', '/users'),
        queryString,
        authHeader,
        extraHeaders,
      )
      .map(([p, q, a, h]) => ({
        kind: 'list-filter',
        method: 'GET',
        path: `${SCIM}${p}${q}`,
        headers: headers(a, undefined, h),
      })),
  },
  search: {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.constantFrom('/Users/.search', '/Groups/.search', '/.search'),
        jsonBody(searchBody),
        authHeader,
        contentType,
      )
      .map(([p, body, a, t]) => ({
        kind: 'search',
        method: 'POST',
        path: `${SCIM}${p}`,
        headers: headers(a, t, {}),
        body,
      })),
  },
  'get-resource': {
    weight: 6,
    arbitrary: fc
      .tuple(resourcePath, queryString, authHeader, extraHeaders)
      .map(([p, q, a, h]) => ({
        kind: 'get-resource',
        method: 'GET',
        path: `${SCIM}${p}${q}`,
        headers: headers(a, undefined, h),
      })),
  },
  'create-user': {
    weight: 12,
    arbitrary: fc
      .tuple(jsonBody(userBody), authHeader, contentType, writeQuery)
      .map(([body, a, t, q]) => ({
        kind: 'create-user',
        method: 'POST',
        path: `${SCIM}/Users${q}`,
        headers: headers(a, t, {}),
        body,
      })),
  },
  'create-group': {
    weight: 8,
    arbitrary: fc.tuple(jsonBody(groupBody), authHeader, contentType).map(([body, a, t]) => ({
      kind: 'create-group',
      method: 'POST',
      path: `${SCIM}/Groups`,
      headers: headers(a, t, {}),
      body,
    })),
  },
  'replace-resource': {
    weight: 8,
    arbitrary: fc
      .tuple(
        fc.constantFrom('/Users/{{user}}', '/Users/{{fresh}}'),
        jsonBody(userBody),
        authHeader,
        contentType,
        extraHeaders,
      )
      .map(([p, body, a, t, h]) => ({
        kind: 'replace-resource',
        method: 'PUT',
        path: `${SCIM}${p}`,
        headers: headers(a, t, { ...h, 'content-encoding': 'identity' }),
        body,
      })),
  },
  'replace-group': {
    weight: 5,
    arbitrary: fc
      .tuple(
        fc.constantFrom('/Groups/{{group}}', '/Groups/{{freshGroup}}'),
        jsonBody(groupBody),
        authHeader,
      )
      .map(([p, body, a]) => ({
        kind: 'replace-group',
        method: 'PUT',
        path: `${SCIM}${p}`,
        headers: headers(a, 'application/scim+json', {}),
        body,
      })),
  },
  patch: {
    weight: 18,
    arbitrary: fc
      .tuple(
        resourcePath,
        jsonBody(patchBody),
        authHeader,
        contentType,
        writeQuery,
        fc.option(fc.constantFrom('*', 'W/"1"', '"x"'), { nil: undefined }),
      )
      .map(([p, body, a, t, q, ifMatch]) => ({
        kind: 'patch',
        method: 'PATCH',
        path: `${SCIM}${p}${q}`,
        headers: headers(a, t, ifMatch ? { 'if-match': ifMatch } : {}),
        body,
      })),
  },
  'delete-resource': {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom('/Users/{{fresh}}', '/Groups/{{freshGroup}}', '/Users/nope', '/Groups/'),
        authHeader,
        fc.option(fc.constantFrom('*', 'W/"1"', '"x"'), { nil: undefined }),
      )
      .map(([p, a, ifMatch]) => ({
        kind: 'delete-resource',
        method: 'DELETE',
        path: `${SCIM}${p}`,
        headers: headers(a, undefined, ifMatch ? { 'if-match': ifMatch } : {}),
      })),
  },
  discovery: {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.oneof(
          fc.constantFrom(
            '/ServiceProviderConfig',
            '/ResourceTypes',
            '/ResourceTypes/User',
            '/Schemas',
            `/Schemas/${USER_URN}`,
            '/Schemas/x',
            '/Bulk',
            '/Me',
            '/serviceConfiguration',
            '/',
            '',
          ),
          nastyString.map((s) => `/${encode(s)}`),
        ),
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND'),
        authHeader,
        queryString,
      )
      .map(([p, m, a, q]) => ({
        kind: 'discovery',
        method: m,
        path: `${SCIM}${p}${q}`,
        headers: headers(a, undefined, {}),
      })),
  },
  'body-coding': {
    weight: 4,
    arbitrary: fc
      .tuple(
        userBody,
        fc.constantFrom('gzip', 'deflate', 'br', 'x-garbage'),
        fc.boolean(),
        contentType,
      )
      .map(
        ([u, coding, compress, t]): FuzzRequest => ({
          kind: 'body-coding',
          method: 'POST',
          path: `${SCIM}/Users`,
          headers: headers('Bearer {{key}}', t, { 'content-encoding': coding }),
          body: compress ? { textGzip: JSON.stringify(u) } : { text: JSON.stringify(u) },
        }),
      ),
  },
  huge: {
    weight: 2,
    arbitrary: fc.oneof(
      fc.tuple(fc.constantFrom(1_000, 5_000, 20_000, 100_000), fc.boolean()).map(
        ([n, distinct]): FuzzRequest => ({
          kind: 'huge-emails',
          method: 'POST',
          path: `${SCIM}/Users`,
          headers: headers('Bearer {{key}}', 'application/scim+json', {}),
          body: { recipe: { kind: 'emails', n, distinct } },
        }),
      ),
      fc
        .tuple(
          fc.constantFrom(1_000, 10_000, 70_000, 150_000),
          fc.boolean(),
          fc.constantFrom('POST', 'PUT'),
        )
        .map(
          ([n, distinct, method]): FuzzRequest => ({
            kind: 'huge-members',
            method,
            path: `${SCIM}/Groups${method === 'PUT' ? '/{{group}}' : ''}`,
            headers: headers('Bearer {{key}}', 'application/scim+json', {}),
            body: { recipe: { kind: 'members', n, distinct } },
          }),
        ),
      fc
        .tuple(
          fc.constantFrom(100, 1_000, 10_000, 50_000),
          fc.constantFrom('add', 'replace', 'remove'),
          fc.constantFrom(
            'emails[type eq "work"].value',
            'emails',
            'members',
            'members[value eq "{{user}}"]',
            'title',
            'name.givenName',
            'phoneNumbers[type eq "x"].value',
          ),
          fc.constantFrom('string', 'email', 'member') as fc.Arbitrary<
            'string' | 'email' | 'member'
          >,
          fc.constantFrom('/Users/{{user}}', '/Groups/{{group}}'),
        )
        .map(
          ([n, op, path, value, target]): FuzzRequest => ({
            kind: 'huge-patch',
            method: 'PATCH',
            path: `${SCIM}${target}`,
            headers: headers('Bearer {{key}}', 'application/scim+json', {}),
            body: { recipe: { kind: 'patch-ops', n, op, path, value } },
          }),
        ),
      fc
        .tuple(
          fc.constantFrom(100, 1_000, 5_000, 50_000, 500_000),
          fc.constantFrom(['[', ']'], ['{"a":', '}'], ['[{"x":', '}]']),
          fc.constantFrom('"\\ud800"', '"\\u0000"', '1', '"x"'),
          fc.boolean(),
          fc.constantFrom('/Users', '/Users/{{user}}', '/Users/.search'),
        )
        .map(
          ([depth, [open, close], core, wrap, p]): FuzzRequest => ({
            kind: 'huge-nested',
            method: p === '/Users' || p === '/Users/.search' ? 'POST' : 'PUT',
            path: `${SCIM}${p}`,
            headers: headers('Bearer {{key}}', 'application/scim+json', {}),
            body: {
              recipe: {
                kind: 'nested',
                depth,
                open: open as string,
                close: close as string,
                core,
                wrap,
              },
            },
          }),
        ),
      fc.constantFrom(10_000, 1_000_000, 7_000_000).map(
        (bytes): FuzzRequest => ({
          kind: 'huge-string',
          method: 'POST',
          path: `${SCIM}/Users`,
          headers: headers('Bearer {{key}}', 'application/scim+json', {}),
          body: { recipe: { kind: 'long-string', bytes } },
        }),
      ),
      fc.constantFrom(1_000, 100_000).map(
        (n): FuzzRequest => ({
          kind: 'huge-keys',
          method: 'POST',
          path: `${SCIM}/Users`,
          headers: headers('Bearer {{key}}', 'application/scim+json', {}),
          body: { recipe: { kind: 'many-keys', n } },
        }),
      ),
      fc
        .tuple(
          fc.constantFrom(1_000, 100_000, 1_000_000),
          fc.constantFrom(['(', ')'], ['not (', ')'], ['emails[', ']']),
        )
        .map(
          ([depth, [open, close]]): FuzzRequest => ({
            kind: 'huge-filter',
            method: 'POST',
            path: `${SCIM}/Users/.search`,
            headers: headers('Bearer {{key}}', 'application/scim+json', {}),
            body: {
              recipe: {
                kind: 'search-nested',
                depth,
                open: open as string,
                close: close as string,
              },
            },
          }),
        ),
      fc.constantFrom(9_000_000).map(
        (bytes): FuzzRequest => ({
          kind: 'huge-oversize',
          method: 'POST',
          path: `${SCIM}/Users`,
          headers: headers('Bearer {{key}}', 'application/scim+json', {}),
          body: { recipe: { kind: 'padding', bytes } },
        }),
      ),
    ),
  },
  raw: {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('GET', 'POST', 'PATCH', 'G E T', 'get', ''),
        fc.oneof(
          fc.constantFrom(
            `${SCIM}/Users`,
            `${SCIM}/Users?filter=userName eq "x"`,
            `${SCIM}/Users/{{user}}`,
            '*',
            'http://evil/x',
            `${SCIM}/Users/\u00e9`,
            `${SCIM}/Users?x=\u0000`,
          ),
          nastyString.map((s) => `${SCIM}/${s}`),
        ),
        fc.constantFrom<Record<string, string>>(
          {},
          { 'Content-Length': '-1' },
          { 'Content-Length': '5, 6' },
          { 'Content-Length': 'abc' },
          { 'Transfer-Encoding': 'chunked' },
          { 'Transfer-Encoding': 'gzip, chunked' },
          { 'Content-Length': '2', 'Transfer-Encoding': 'chunked' },
          { 'X-Big': 'x'.repeat(20_000) },
          { Authorization: 'Bearer {{key}}\u00ff' },
        ),
        fc.option(
          fc.constantFrom('{}', '0\r\n\r\n', 'zz\r\n{}\r\n0\r\n\r\n', '2\r\n{}\r\n0\r\n\r\n'),
          { nil: undefined },
        ),
      )
      .map(
        ([method, path, extra, body]): FuzzRequest => ({
          kind: 'raw',
          method,
          path,
          headers: { Authorization: 'Bearer {{key}}', Connection: 'close', ...extra },
          ...(body === undefined ? {} : { body: { text: body } }),
          transport: 'raw',
        }),
      ),
  },
  admin: {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          '/api/v3/sources/scim/',
          '/api/v3/core/users/',
          '/api/v3/core/groups/',
          '/api/v3/sources/scim_users/',
          '/api/v3/sources/scim_groups/',
          '/api/v3/core/tokens/',
          '/api/v3/sources/scim/{{slug}}/',
        ),
        fc.array(
          fc.tuple(
            fc.constantFrom(
              'page',
              'page_size',
              'ordering',
              'search',
              'name',
              'slug',
              'source__slug',
              'username',
              'is_active',
            ),
            nastyString,
          ),
          { maxLength: 3 },
        ),
        fc.constantFrom('GET', 'GET', 'POST'),
        jsonBody(
          fc.record(
            {
              name: nastyString,
              slug: fc.oneof(nastyString, fc.stringMatching(/^[a-z]{1,10}$/)),
              enabled: jsonScalar,
            },
            { requiredKeys: [] },
          ),
        ),
        fc.constantFrom('Bearer {{adminKey}}', 'Bearer {{adminKey}}', 'Bearer {{key}}', ''),
      )
      .map(
        ([p, qs, method, body, a]): FuzzRequest => ({
          kind: 'admin',
          method: p.endsWith('{{slug}}/') ? 'GET' : method,
          path: `${p}${qs.length ? `?${qs.map(([k, v]) => `${k}=${encode(v)}`).join('&')}` : ''}`,
          headers: headers(a, 'application/json', {}),
          ...(method === 'POST' && !p.endsWith('{{slug}}/') ? { body } : {}),
        }),
      ),
  },
}

export const KIND_NAMES = Object.keys(kinds)

/** One arbitrary over every kind (or only those named in `only`). */
export function fuzzRequest(only?: readonly string[]): fc.Arbitrary<FuzzRequest> {
  const chosen = Object.entries(kinds).filter(([name]) => !only || only.includes(name))
  if (chosen.length === 0) throw new Error(`no such kind; known: ${KIND_NAMES.join(', ')}`)
  return fc.oneof(...chosen.map(([, k]) => k))
}

/** The request number `index` of a run with `seed`: the same pair always gives the same request. */
export function requestAt(
  arbitrary: fc.Arbitrary<FuzzRequest>,
  seed: number,
  index: number,
): FuzzRequest {
  const [value] = fc.sample(arbitrary, { seed: (seed + index * 7919) | 0, numRuns: 1 })
  if (!value) throw new Error('fast-check produced no sample')
  return value
}
