/** The User, Group and enterprise User schema definitions of RFC 7643 §8.7.1, as data. */
import type { AttributeDefinition, AttributeType, SchemaDefinition } from './types.js'

// URNs are spelled out here rather than imported: resource-types.ts imports this module.

type AttributeOptions = Partial<Omit<AttributeDefinition, 'name' | 'type' | 'description'>>

/** An attribute with the RFC 7643 §7 defaults for every characteristic the RFC leaves out. */
function attr(
  name: string,
  type: AttributeType,
  description: string,
  options: AttributeOptions = {},
): AttributeDefinition {
  return {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...options,
  }
}

function complex(
  name: string,
  description: string,
  subAttributes: AttributeDefinition[],
  options: AttributeOptions = {},
): AttributeDefinition {
  return attr(name, 'complex', description, { ...options, subAttributes })
}

const DISPLAY_DESCRIPTION = 'A human-readable name, primarily used for display purposes. READ-ONLY.'

/** The `display` sub-attribute; §8.7.1 marks it readWrite despite the READ-ONLY description. */
const display = (): AttributeDefinition => attr('display', 'string', DISPLAY_DESCRIPTION)

const primary = (example?: string): AttributeDefinition =>
  attr(
    'primary',
    'boolean',
    `A Boolean value indicating the 'primary' or preferred attribute value for this attribute${example ? `, e.g., ${example}` : ''}. The primary attribute value 'true' MUST appear no more than once.`,
  )

const label = (description: string, canonicalValues?: string[]): AttributeDefinition =>
  attr('type', 'string', description, canonicalValues ? { canonicalValues } : {})

const nameComponent = (name: string, description: string): AttributeDefinition =>
  attr(name, 'string', description)

export const USER_SCHEMA: SchemaDefinition = {
  id: 'urn:ietf:params:scim:schemas:core:2.0:User',
  name: 'User',
  description: 'User Account',
  attributes: [
    attr(
      'userName',
      'string',
      "Unique identifier for the User, typically used by the user to directly authenticate to the service provider. Each User MUST include a non-empty userName value. This identifier MUST be unique across the service provider's entire set of Users. REQUIRED.",
      { required: true, uniqueness: 'server' },
    ),
    complex(
      'name',
      "The components of the user's real name. Providers MAY return just the full name as a single string in the formatted sub-attribute, or they MAY return just the individual component attributes using the other sub-attributes, or they MAY return both. If both variants are returned, they SHOULD be describing the same name, with the formatted name indicating how the component attributes should be combined.",
      [
        nameComponent(
          'formatted',
          "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display (e.g., 'Ms. Barbara J Jensen, III').",
        ),
        nameComponent(
          'familyName',
          "The family name of the User, or last name in most Western languages (e.g., 'Jensen' given the full name 'Ms. Barbara J Jensen, III').",
        ),
        nameComponent(
          'givenName',
          "The given name of the User, or first name in most Western languages (e.g., 'Barbara' given the full name 'Ms. Barbara J Jensen, III').",
        ),
        nameComponent(
          'middleName',
          "The middle name(s) of the User (e.g., 'Jane' given the full name 'Ms. Barbara J Jensen, III').",
        ),
        nameComponent(
          'honorificPrefix',
          "The honorific prefix(es) of the User, or title in most Western languages (e.g., 'Ms.' given the full name 'Ms. Barbara J Jensen, III').",
        ),
        nameComponent(
          'honorificSuffix',
          "The honorific suffix(es) of the User, or suffix in most Western languages (e.g., 'III' given the full name 'Ms. Barbara J Jensen, III').",
        ),
      ],
    ),
    attr(
      'displayName',
      'string',
      'The name of the User, suitable for display to end-users. The name SHOULD be the full name of the User being described, if known.',
    ),
    attr(
      'nickName',
      'string',
      "The casual way to address the user in real life, e.g., 'Bob' or 'Bobby' instead of 'Robert'. This attribute SHOULD NOT be used to represent a User's username (e.g., 'bjensen' or 'mpepperidge').",
    ),
    attr(
      'profileUrl',
      'reference',
      "A fully qualified URL pointing to a page representing the User's online profile.",
      { referenceTypes: ['external'] },
    ),
    attr('title', 'string', 'The user\'s title, such as "Vice President."'),
    attr(
      'userType',
      'string',
      "Used to identify the relationship between the organization and the user. Typical values used might be 'Contractor', 'Employee', 'Intern', 'Temp', 'External', and 'Unknown', but any value may be used.",
    ),
    attr(
      'preferredLanguage',
      'string',
      "Indicates the User's preferred written or spoken language. Generally used for selecting a localized user interface; e.g., 'en_US' specifies the language English and country US.",
    ),
    attr(
      'locale',
      'string',
      "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations.",
    ),
    attr(
      'timezone',
      'string',
      "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'.",
    ),
    attr('active', 'boolean', "A Boolean value indicating the User's administrative status."),
    attr(
      'password',
      'string',
      "The User's cleartext password. This attribute is intended to be used as a means to specify an initial password when creating a new User or to reset an existing User's password.",
      { mutability: 'writeOnly', returned: 'never' },
    ),
    complex(
      'emails',
      "Email addresses for the user. The value SHOULD be canonicalized by the service provider, e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'.",
      [
        attr(
          'value',
          'string',
          "Email addresses for the user. The value SHOULD be canonicalized by the service provider, e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'.",
        ),
        display(),
        label("A label indicating the attribute's function, e.g., 'work' or 'home'.", [
          'work',
          'home',
          'other',
        ]),
        primary('the preferred mailing address or primary email address'),
      ],
      { multiValued: true },
    ),
    complex(
      'phoneNumbers',
      "Phone numbers for the User. The value SHOULD be canonicalized by the service provider according to the format specified in RFC 3966, e.g., 'tel:+1-201-555-0123'. Canonical type values of 'work', 'home', 'mobile', 'fax', 'pager', and 'other'.",
      [
        attr('value', 'string', 'Phone number of the User.'),
        display(),
        label("A label indicating the attribute's function, e.g., 'work', 'home', 'mobile'.", [
          'work',
          'home',
          'mobile',
          'fax',
          'pager',
          'other',
        ]),
        primary('the preferred phone number or primary phone number'),
      ],
      { multiValued: true },
    ),
    complex(
      'ims',
      'Instant messaging addresses for the User.',
      [
        attr('value', 'string', 'Instant messaging address for the User.'),
        display(),
        label("A label indicating the attribute's function, e.g., 'aim', 'gtalk', 'xmpp'.", [
          'aim',
          'gtalk',
          'icq',
          'xmpp',
          'msn',
          'skype',
          'qq',
          'yahoo',
        ]),
        primary('the preferred messenger or primary messenger'),
      ],
      { multiValued: true },
    ),
    complex(
      'photos',
      'URLs of photos of the User.',
      [
        attr('value', 'reference', 'URL of a photo of the User.', {
          referenceTypes: ['external'],
        }),
        display(),
        label("A label indicating the attribute's function, i.e., 'photo' or 'thumbnail'.", [
          'photo',
          'thumbnail',
        ]),
        primary('the preferred photo or thumbnail'),
      ],
      { multiValued: true },
    ),
    complex(
      'addresses',
      "A physical mailing address for this User. Canonical type values of 'work', 'home', and 'other'. This attribute is a complex type with the following sub-attributes.",
      [
        attr(
          'formatted',
          'string',
          'The full mailing address, formatted for display or use with a mailing label. This attribute MAY contain newlines.',
        ),
        attr(
          'streetAddress',
          'string',
          'The full street address component, which may include house number, street name, P.O. box, and multi-line extended street address information. This attribute MAY contain newlines.',
        ),
        attr('locality', 'string', 'The city or locality component.'),
        attr('region', 'string', 'The state or region component.'),
        attr('postalCode', 'string', 'The zip code or postal code component.'),
        attr('country', 'string', 'The country name component.'),
        label("A label indicating the attribute's function, e.g., 'work' or 'home'.", [
          'work',
          'home',
          'other',
        ]),
        // Not in §8.7.1's table, but §2.4 gives every multi-valued attribute `primary` and IdPs send it.
        primary('the preferred mailing address'),
      ],
      { multiValued: true },
    ),
    complex(
      'groups',
      'A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.',
      [
        attr('value', 'string', "The identifier of the User's group.", { mutability: 'readOnly' }),
        attr(
          '$ref',
          'reference',
          "The URI of the corresponding 'Group' resource to which the user belongs.",
          { mutability: 'readOnly', referenceTypes: ['User', 'Group'] },
        ),
        attr('display', 'string', DISPLAY_DESCRIPTION, { mutability: 'readOnly' }),
        attr(
          'type',
          'string',
          "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.",
          { mutability: 'readOnly', canonicalValues: ['direct', 'indirect'] },
        ),
      ],
      { multiValued: true, mutability: 'readOnly' },
    ),
    complex(
      'entitlements',
      'A list of entitlements for the User that represent a thing the User has.',
      [
        attr('value', 'string', 'The value of an entitlement.'),
        display(),
        label("A label indicating the attribute's function."),
        primary(),
      ],
      { multiValued: true },
    ),
    complex(
      'roles',
      "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.",
      [
        attr('value', 'string', 'The value of a role.'),
        display(),
        label("A label indicating the attribute's function.", []),
        primary(),
      ],
      { multiValued: true },
    ),
    complex(
      'x509Certificates',
      'A list of certificates issued to the User.',
      [
        attr('value', 'binary', 'The value of an X.509 certificate.'),
        display(),
        label("A label indicating the attribute's function.", []),
        primary(),
      ],
      { multiValued: true },
    ),
  ],
}

export const GROUP_SCHEMA: SchemaDefinition = {
  id: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  name: 'Group',
  description: 'Group',
  attributes: [
    // Required and unique per source: scimd names the directory group after it, and a second
    // group of the same name (ignoring case) in one source is 409 (RFC 7644 §3.3).
    attr('displayName', 'string', 'A human-readable name for the Group. REQUIRED.', {
      required: true,
      uniqueness: 'server',
    }),
    complex(
      'members',
      'A list of members of the Group.',
      [
        // caseExact: a member value is a resource id, and ids are case-exact (RFC 7643 §3.1).
        attr('value', 'string', 'Identifier of the member of this Group.', {
          caseExact: true,
          mutability: 'immutable',
        }),
        attr(
          '$ref',
          'reference',
          'The URI corresponding to a SCIM resource that is a member of this Group.',
          { mutability: 'immutable', referenceTypes: ['User', 'Group'] },
        ),
        attr(
          'type',
          'string',
          "A label indicating the type of resource, e.g., 'User' or 'Group'.",
          {
            mutability: 'immutable',
            canonicalValues: ['User', 'Group'],
          },
        ),
        // Not in §8.7.1's table, but used by RFC 7643 §4.2 and sent by every IdP.
        attr('display', 'string', 'A human-readable name for the member of this Group.', {
          mutability: 'readOnly',
        }),
      ],
      { multiValued: true },
    ),
  ],
}

export const ENTERPRISE_USER_SCHEMA: SchemaDefinition = {
  id: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    attr(
      'employeeNumber',
      'string',
      'Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization.',
    ),
    attr('costCenter', 'string', 'Identifies the name of a cost center.'),
    attr('organization', 'string', 'Identifies the name of an organization.'),
    attr('division', 'string', 'Identifies the name of a division.'),
    attr('department', 'string', 'Identifies the name of a department.'),
    complex(
      'manager',
      "The User's manager. A complex type that optionally allows service providers to represent organizational hierarchy by referencing the 'id' attribute of another User.",
      [
        // caseExact: the value is a User id, which is case-exact (RFC 7643 erratum 8472).
        attr(
          'value',
          'string',
          "The id of the SCIM resource representing the User's manager. REQUIRED.",
          {
            caseExact: true,
            uniqueness: 'none',
          },
        ),
        attr(
          '$ref',
          'reference',
          "The URI of the SCIM resource representing the User's manager. REQUIRED.",
          { referenceTypes: ['User'] },
        ),
        attr(
          'displayName',
          'string',
          "The displayName of the User's manager. OPTIONAL and READ-ONLY.",
          {
            mutability: 'readOnly',
          },
        ),
      ],
    ),
  ],
}
