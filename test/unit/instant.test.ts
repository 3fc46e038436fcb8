import { describe, expect, it } from 'vitest'
import { isRealDate } from '../../src/core/instant.js'

describe('isRealDate', () => {
  it('takes real days and times, with or without a time, seconds or offset', () => {
    for (const text of [
      '2030-01-31',
      '2032-02-29',
      '2000-02-29T00:00:00Z',
      '2030-12-31T23:59:59.999+05:30',
      '0001-01-01',
      '9999-12-31T23:59',
    ]) {
      expect(isRealDate(text)).toBe(true)
    }
  })

  it('refuses days JavaScript would roll over, hour 24, year 0 and what is not a date', () => {
    for (const text of [
      '2030-02-30',
      '2030-02-29',
      '1900-02-29',
      '2030-04-31T10:00:00Z',
      '2030-00-10',
      '2030-13-01',
      '2030-01-00',
      '2030-01-01T24:00:00Z',
      '2030-01-01T23:60',
      '0000-01-01',
      'soon',
      '',
    ]) {
      expect(isRealDate(text)).toBe(false)
    }
  })
})
