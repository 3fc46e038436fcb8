import { describe, expect, it } from 'vitest'
import { isoFormatter, uuidv7 } from '../../src/core/ids.js'

describe('uuidv7', () => {
  it('is a version 7, variant 10 UUID carrying the timestamp', () => {
    const id = uuidv7(0x0123456789ab)
    expect(id).toMatch(/^01234567-89ab-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })

  it('sorts in creation order, also within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7(1_800_000_000_000))
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('draws fresh random bits for every id, across refills of its random pool', () => {
    // 20,000 ids take 360,000 random bytes: the 4 KiB pool is refilled many times over.
    const ids = Array.from({ length: 20_000 }, (_, i) => uuidv7(1_700_000_000_000 + i))
    const randomParts = ids.map((id) => id.slice(19))
    expect(new Set(randomParts).size).toBe(ids.length)
    // Each hex digit of the last 48 bits takes all 16 values.
    for (let digit = 24; digit < 36; digit++) {
      expect(new Set(ids.map((id) => id[digit])).size).toBe(16)
    }
  })
})

describe('isoFormatter', () => {
  it('formats as toISOString does, whichever instant came before', () => {
    const iso = isoFormatter()
    for (const ms of [0, 1_800_000_000_000, 1_800_000_000_000, 1_800_000_000_001, 0, -1]) {
      expect(iso(ms)).toBe(new Date(ms).toISOString())
    }
    expect(() => iso(Number.NaN)).toThrow(RangeError)
  })
})
