/** How long lists are cut for statements: bounded pieces of few lengths (store/prepared.ts). */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LIST_PIECE, listPieces } from '../../src/store/prepared.js'

describe('listPieces', () => {
  it('cuts 1,000 into 512 + 256 + 128 + 64 + 32 + 8', () => {
    expect(listPieces(1000)).toEqual([512, 256, 128, 64, 32, 8])
    expect(listPieces(0)).toEqual([])
  })

  it('covers any length with pieces of at most LIST_PIECE, of ten lengths at most', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20_000 }), (n) => {
        const pieces = listPieces(n)
        expect(pieces.reduce((a, b) => a + b, 0)).toBe(n)
        for (const p of pieces) {
          expect(p).toBeLessThanOrEqual(LIST_PIECE)
          // A power of two: one of ten lengths (1 … 512), so few statements are prepared.
          expect(p & (p - 1)).toBe(0)
        }
        // Past the full pieces, each shorter length at most once.
        const rest = pieces.filter((p) => p < LIST_PIECE)
        expect(new Set(rest).size).toBe(rest.length)
      }),
    )
  })
})
