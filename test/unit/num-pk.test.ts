import { describe, expect, it } from 'vitest'
import { uuidv7 } from '../../src/core/ids.js'
import { numPk } from '../../src/http/admin/serializers.js'

describe('numPk', () => {
  it("is authentik's num_pk for its version-4 UUIDs: the first five decimal digits", () => {
    // Values from Python: int(str(uuid.UUID(u).int)[:5]), as authentik's Group.num_pk.
    expect(numPk('9f1c2b7e-4d3a-4c5b-8e6f-0a1b2c3d4e5f')).toBe(21149)
    expect(numPk('00000000-0000-0000-0000-000000000001')).toBe(1)
    expect(numPk('ffffffff-ffff-ffff-ffff-ffffffffffff')).toBe(34028)
  })

  it('comes from the random bits of a version-7 UUID, whose leading digits are a timestamp', () => {
    // Python: 10000 + int(uuid.UUID(u).hex[16:], 16) % 90000
    expect(numPk('01a20e4c-9e50-76ea-b055-488383ea83c3')).toBe(12595)
    // authentik's formula gave 21706 for every group made this year.
    const ids = Array.from({ length: 200 }, () => uuidv7())
    const numbers = new Set(ids.map(numPk))
    expect(numbers.size).toBeGreaterThan(190)
    for (const n of numbers) expect(n >= 10_000 && n <= 99_999).toBe(true)
  })
})
