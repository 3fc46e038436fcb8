/**
 * Third-party SCIM test material (SCIMMY fixtures, Okta's and Microsoft's suites) lives
 * outside the repository, in `../shared/scim-test-material/` or SCIMD_TEST_MATERIAL. A
 * fresh clone has none of it: its tests skip with one line saying what is missing, unless
 * SCIMD_REQUIRE_THIRD_PARTY=1 (set by .ci/run), where a missing file fails the run.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const MATERIAL_DIR = resolve(
  process.env.SCIMD_TEST_MATERIAL ||
    join(import.meta.dirname, '../../../shared/scim-test-material'),
)

export function materialPath(file: string): string {
  return join(MATERIAL_DIR, file)
}

/**
 * Whether every file of a suite is present. If not, prints one line naming the files and
 * how to run the suite, and returns false (the caller skips); under
 * SCIMD_REQUIRE_THIRD_PARTY=1 it throws instead, so the test file fails.
 */
export function hasMaterial(suite: string, files: string[]): boolean {
  const missing = files.filter((f) => !existsSync(materialPath(f)))
  if (missing.length === 0) return true
  const what = `${suite}: third-party material missing (${missing.join(', ')} in ${MATERIAL_DIR})`
  if (process.env.SCIMD_REQUIRE_THIRD_PARTY === '1') {
    throw new Error(`${what}, and SCIMD_REQUIRE_THIRD_PARTY=1 requires it`)
  }
  console.warn(`${what}: skipped; set SCIMD_TEST_MATERIAL=<dir> to run it`)
  return false
}
