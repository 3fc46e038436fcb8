/**
 * Okta's SCIM 2.0 SPEC test: the 2016 and 2017 Runscope exports and the current suite
 * (reconstructed from client-traces.md §2.3), replayed by scripts/okta-spec-runner.ts against
 * a real scimd process. Every step current Okta agrees with passes; the deliberate failures
 * of the old exports are listed in the runner with their reasons.
 * @see issue 6
 */
import { basename } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CURRENT_SUITE, EXPECTED_FAILURES, runSuiteFile } from '../../scripts/okta-spec-runner.js'
import { hasMaterial, materialPath } from '../support/material.js'
import { type RunningServer, startServer } from './support/server.js'

/** Okta's exports are third-party material; the current suite is in fixtures/ and always runs. */
const EXPORTS = ['okta-SCIM-20-SPEC-Test.2016.json', 'okta-SCIM-20-SPEC-Test.2017.json']
const SUITES = [
  ...(hasMaterial("Okta's SPEC test exports", EXPORTS) ? EXPORTS.map(materialPath) : []),
  CURRENT_SUITE,
]

describe('Okta SCIM 2.0 SPEC test', () => {
  let server: RunningServer

  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it.each(SUITES.map((path) => [basename(path), path]))(
    '%s fails only its documented steps',
    async (name, path) => {
      const source = await server.createSource(name.replace(/\W+/g, '-').slice(0, 40))
      const result = await runSuiteFile(path, { url: source.scimUrl, token: source.key })
      expect(result.requests).toBeGreaterThanOrEqual(12)
      expect(result.checks.filter((c) => c.status === 'passed').length).toBeGreaterThan(40)
      expect(result.failed.map((c) => c.key).sort()).toEqual(
        Object.keys(EXPECTED_FAILURES[name] ?? {}).sort(),
      )
    },
  )

  it('answers the current suite’s case check with the user, since userName is caseExact false', async () => {
    const source = await server.createSource('okta-case')
    const result = await runSuiteFile(CURRENT_SUITE, { url: source.scimUrl, token: source.key })
    const caseCheck = result.checks.find((c) =>
      c.key.startsWith('R9 Required Test: Username Case Sensitivity Check › response_status'),
    )
    expect(caseCheck?.status).toBe('passed')
  })
})
