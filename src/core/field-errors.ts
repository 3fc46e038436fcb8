/** A request's field errors found by a use case (a name taken, a pk that names nothing). */

/**
 * Thrown by services for errors that belong to named fields of an admin request; the admin
 * API renders them as authentik does, `{"<field>": ["…"], "code": "invalid"}` with 400.
 */
export class FieldErrors extends Error {
  override name = 'FieldErrors'
  readonly fields: Record<string, string[]>

  constructor(fields: Record<string, string[]>) {
    super(`Invalid fields: ${Object.keys(fields).join(', ')}`)
    this.fields = fields
  }
}
