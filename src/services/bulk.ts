/**
 * Bulk (RFC 7644 §3.7): many User and Group operations in one request, each through the same
 * service function as its single request and all or nothing on its own.
 */
import type { Source } from '../core/domain.js'
import {
  type BulkOperation,
  type BulkOutcome,
  type BulkRequest,
  executionOrder,
  type InvalidBulkOperation,
  resolveReferences,
} from '../scim/bulk.js'
import { ScimError } from '../scim/errors.js'
import { etag } from '../scim/resources.js'
import { nestedTransactor, TransactionAborted } from '../store/transactor.js'
import { type Deps, derivedDeps } from './deps.js'
import * as groups from './groups.js'
import * as users from './users.js'

/**
 * How many operations share one transaction. Each operation is a savepoint of it, so a
 * thousand creates pay a few commits instead of a thousand; a bound keeps other requests
 * (which wait for the single SQLite writer) from waiting for a whole large request.
 */
const OPERATIONS_PER_TRANSACTION = 100

/** What a successful operation did. */
interface Done {
  id: string
  version: number | undefined
}

/** One thing the run does: an operation to run, or one that fails without running. */
type Step =
  | { kind: 'run'; op: BulkOperation }
  | { kind: 'fail'; op: BulkOperation | InvalidBulkOperation; error: ScimError }

/**
 * Runs a parsed BulkRequest for `source` and returns one outcome per operation that ran, in
 * the request's order. Operations run in the request's order except where one refers to a
 * later POST's bulkId, which then runs first; once `failOnErrors` operations failed, the
 * rest do not run (RFC 7644 §3.7.3).
 */
export async function runBulk(
  deps: Deps,
  source: Source,
  request: BulkRequest,
): Promise<BulkOutcome[]> {
  const outcomes = new Map<number, BulkOutcome>()
  const ids = new Map<string, string>()
  /** bulkIds whose POST failed: what refers to them cannot run. */
  const failedBulkIds = new Set<string>()
  let errors = 0
  const errorsLeft = () =>
    request.failOnErrors === undefined ? Number.POSITIVE_INFINITY : request.failOnErrors - errors

  const steps = plan(request, failedBulkIds)
  for (let start = 0; start < steps.length && errorsLeft() > 0; ) {
    const chunk = steps.slice(start, start + OPERATIONS_PER_TRANSACTION)
    const ran = await runChunk(deps, source, chunk, ids, failedBulkIds, errorsLeft())
    for (const r of ran) {
      outcomes.set(r.op.index, r.outcome)
      if (r.outcome.error) errors++
      if (r.op.method === 'POST' && r.op.bulkId) {
        if (r.done) ids.set(r.op.bulkId, r.done.id)
        else failedBulkIds.add(r.op.bulkId)
      }
    }
    if (ran.length === 0) break
    start += ran.length
  }
  return [...outcomes.entries()].sort(([a], [b]) => a - b).map(([, outcome]) => outcome)
}

/**
 * The steps in the order they happen. An operation refused while parsing, or caught in a
 * circular reference, fails where it stands in the request (before the first operation that
 * comes after it), so that failOnErrors counts failures in the order a client expects.
 */
function plan(request: BulkRequest, failedBulkIds: Set<string>): Step[] {
  const failures: Step[] = []
  const valid: BulkOperation[] = []
  for (const op of request.operations) {
    if ('error' in op) failures.push({ kind: 'fail', op, error: op.error })
    else valid.push(op)
  }
  // A POST refused before running declares no resource: what refers to it cannot run.
  const posted = new Set(
    valid.flatMap((op) => (op.method === 'POST' && op.bulkId ? [op.bulkId] : [])),
  )
  for (const { op } of failures) {
    if (op.method === 'POST' && op.bulkId && !posted.has(op.bulkId)) failedBulkIds.add(op.bulkId)
  }
  const { order, circular } = executionOrder(valid)
  for (const { operation, cycle } of circular) {
    const detail = `Circular bulkId references (${cycle.join(' → ')}) cannot be resolved`
    failures.push({ kind: 'fail', op: operation, error: new ScimError(409, detail) })
    if (operation.method === 'POST' && operation.bulkId) failedBulkIds.add(operation.bulkId)
  }
  failures.sort((a, b) => a.op.index - b.op.index)
  const steps: Step[] = []
  let next = 0
  for (const op of order) {
    while (next < failures.length && (failures[next] as Step).op.index < op.index) {
      steps.push(failures[next++] as Step)
    }
    steps.push({ kind: 'run', op })
  }
  steps.push(...failures.slice(next))
  return steps
}

interface Ran {
  op: BulkOperation | InvalidBulkOperation
  done: Done | undefined
  outcome: BulkOutcome
}

/**
 * Runs steps in one transaction, each operation in its own savepoint, until `errorsLeft`
 * more have failed. The transaction may run more than once (transactor.ts), so everything it
 * learns stays in locals until it has committed.
 */
async function runChunk(
  deps: Deps,
  source: Source,
  chunk: readonly Step[],
  committedIds: ReadonlyMap<string, string>,
  committedFailures: ReadonlySet<string>,
  errorsLeft: number,
): Promise<Ran[]> {
  try {
    return await deps.transactor.run(async (tx) => {
      const ids = new Map(committedIds)
      const failedBulkIds = new Set(committedFailures)
      const scoped = derivedDeps(deps, { db: tx, reader: tx, transactor: nestedTransactor(tx) })
      const ran: Ran[] = []
      let left = errorsLeft
      for (const step of chunk) {
        if (left <= 0) break
        const result =
          step.kind === 'fail'
            ? { done: undefined, outcome: failure(step.op, step.error, ids) }
            : await runOperation(scoped, source, step.op, ids, failedBulkIds)
        ran.push({ op: step.op, ...result })
        if (step.op.method === 'POST' && step.op.bulkId) {
          if (result.done) ids.set(step.op.bulkId, result.done.id)
          else failedBulkIds.add(step.op.bulkId)
        }
        if (result.outcome.error) left--
      }
      return ran
    })
  } catch (err) {
    // The transaction itself failed (its commit, or the database went away): none of its
    // operations is in the database.
    deps.logger.error('bulk transaction failed', { error: String(err) })
    const error = new ScimError(500, 'The operation could not be committed')
    return chunk.slice(0, Math.min(chunk.length, errorsLeft)).map((step) => ({
      op: step.op,
      done: undefined,
      outcome: failure(step.op, step.kind === 'fail' ? step.error : error, committedIds),
    }))
  }
}

async function runOperation(
  deps: Deps,
  source: Source,
  op: BulkOperation,
  ids: ReadonlyMap<string, string>,
  failedBulkIds: ReadonlySet<string>,
): Promise<{ done: Done | undefined; outcome: BulkOutcome }> {
  const failedDependency = op.references.find((r) => failedBulkIds.has(r))
  if (failedDependency !== undefined) {
    const error = new ScimError(
      409,
      `The operation with bulkId '${failedDependency}', which this one refers to, failed`,
    )
    return { done: undefined, outcome: failure(op, error, ids) }
  }
  try {
    // Each operation in its own savepoint: whatever it wrote is undone if it fails, even
    // where its service function writes without a transaction of its own.
    const done = await deps.transactor.run(() => perform(deps, source, op, ids))
    return {
      done,
      outcome: {
        method: op.method,
        bulkId: op.bulkId,
        location: { resourceType: op.resourceType, id: done.id },
        version: done.version === undefined ? undefined : etag(done.version),
        status: op.method === 'POST' ? 201 : op.method === 'DELETE' ? 204 : 200,
        error: undefined,
      },
    }
  } catch (err) {
    if (err instanceof TransactionAborted) throw err
    if (err instanceof ScimError) return { done: undefined, outcome: failure(op, err, ids) }
    deps.logger.error('bulk operation failed', {
      method: op.method,
      index: op.index,
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    })
    return { done: undefined, outcome: failure(op, new ScimError(500, 'Internal error'), ids) }
  }
}

/** One operation through the service function its single request uses. */
async function perform(
  deps: Deps,
  source: Source,
  op: BulkOperation,
  ids: ReadonlyMap<string, string>,
): Promise<Done> {
  const data = resolveReferences(op.data, ids)
  const id = op.id === undefined ? undefined : (resolveReferences(op.id, ids) as string)
  const ifMatch = op.version
  const user = op.resourceType === 'User'
  switch (op.method) {
    case 'POST': {
      const view = user
        ? await users.createUser(deps, source, data, { withGroups: false })
        : await groups.createGroup(deps, source, data, { withMembers: false })
      return { id: view.record.id, version: view.record.version }
    }
    case 'PUT': {
      const view = user
        ? await users.replaceUser(deps, source, id as string, data, { withGroups: false, ifMatch })
        : await groups.replaceGroup(deps, source, id as string, data, {
            withMembers: false,
            ifMatch,
          })
      return { id: view.record.id, version: view.record.version }
    }
    case 'PATCH': {
      const view = user
        ? await users.patchUser(deps, source, id as string, data, { withGroups: false, ifMatch })
        : await groups.patchGroup(deps, source, id as string, data, {
            withMembers: false,
            ifMatch,
          })
      return { id: view.record.id, version: view.record.version }
    }
    case 'DELETE':
      if (user) await users.deleteUser(deps, source, id as string, ifMatch)
      else await groups.deleteGroup(deps, source, id as string, ifMatch)
      return { id: id as string, version: undefined }
  }
}

/** A failed operation's outcome: its location when the path named a resource. */
function failure(
  op: {
    method: string | undefined
    bulkId: string | undefined
    resourceType?: BulkOperation['resourceType']
    id?: string | undefined
  },
  error: ScimError,
  ids: ReadonlyMap<string, string> = new Map(),
): BulkOutcome {
  const id = op.id === undefined ? undefined : (resolveReferences(op.id, ids) as string)
  return {
    method: op.method,
    bulkId: op.bulkId,
    location:
      op.resourceType !== undefined && id !== undefined && !id.startsWith('bulkId:')
        ? { resourceType: op.resourceType, id }
        : undefined,
    version: undefined,
    status: error.status,
    error: error.toBody(),
  }
}
