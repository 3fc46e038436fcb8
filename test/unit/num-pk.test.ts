import { describe, expect, it } from 'vitest'
import { numPk } from '../../src/api/serializers.js'

describe('numPk', () => {
  it("is authentik's num_pk: the first five decimal digits of the UUID as an integer", () => {
    // Values from Python: int(str(uuid.UUID(u).int)[:5]), as authentik's Group.num_pk.
    expect(numPk('01a20e4c-9e50-76ea-b055-488383ea83c3')).toBe(21706)
    expect(numPk('00000000-0000-0000-0000-000000000001')).toBe(1)
    expect(numPk('ffffffff-ffff-ffff-ffff-ffffffffffff')).toBe(34028)
  })
})
