/** /api/v3/sources/scim/: SCIM sources, authentik-compatible. */
import { Hono } from 'hono'
import * as z from 'zod'
import type { AppEnv } from '../../http/env.js'
import { ValidationError } from '../../http/render-error.js'
import * as sources from '../../services/sources.js'
import { serializeSource } from '../serializers.js'

export const SourceCreateSchema = z.strictObject({
  name: z.string().trim().min(1, 'This field may not be blank.'),
  slug: z
    .string()
    .max(50, 'Ensure this field has no more than 50 characters.')
    .regex(
      sources.SLUG_PATTERN,
      'Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.',
    ),
  enabled: z.boolean().optional(),
  user_path_template: z.string().min(1).optional(),
  user_property_mappings: z.array(z.string()).optional(),
  group_property_mappings: z.array(z.string()).optional(),
})

/** Runs a zod schema and turns its issues into authentik's `{field: [messages]}`. */
export function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body)
  if (parsed.success) return parsed.data
  const fields: Record<string, string[]> = {}
  const add = (key: string, message: string) => {
    fields[key] = [...(fields[key] ?? []), message]
  }
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) add(key, 'Unknown field.')
      continue
    }
    const key = issue.path.length > 0 ? issue.path.join('.') : 'non_field_errors'
    const message =
      issue.code === 'invalid_type' && issue.input === undefined
        ? 'This field is required.'
        : issue.message
    add(key, message)
  }
  throw new ValidationError(fields)
}

export async function readAdminBody(c: { req: { text(): Promise<string> } }): Promise<unknown> {
  const text = await c.req.text()
  try {
    return text.trim() === '' ? {} : JSON.parse(text)
  } catch {
    throw new ValidationError({ non_field_errors: ['JSON parse error.'] })
  }
}

export function sourceRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const origin = (c: { var: AppEnv['Variables']; req: { url: string } }) =>
    c.var.deps.config.baseUrl ?? new URL(c.req.url).origin

  app.post('/', async (c) => {
    const input = validate(SourceCreateSchema, await readAdminBody(c))
    const created = await sources.createSource(c.var.deps, {
      name: input.name,
      slug: input.slug,
      ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
      ...(input.user_path_template ? { userPathTemplate: input.user_path_template } : {}),
    })
    return c.json(serializeSource(created, origin(c)), 201)
  })

  app.get('/:slug', async (c) => {
    const detail = await sources.getSource(c.var.deps, c.req.param('slug'))
    return c.json(serializeSource(detail, origin(c)))
  })

  return app
}
