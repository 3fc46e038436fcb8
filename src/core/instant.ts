/**
 * Calendar checks for ISO 8601 dates and date-times. JavaScript's Date rolls an impossible
 * day over (2030-02-30 is 2030-03-02, T24:00 the next day) where authentik's DRF, on
 * Python's datetime, refuses it: an expiry must not land on a day nobody wrote.
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/

/**
 * Whether the date part of an ISO 8601 text names a real day (year 1 to 9999), and its
 * time, if any, an hour 0-23 and a minute 0-59. Seconds, fractions and offsets are
 * Date.parse's to check: it refuses second 60 and offsets beyond 23:59.
 */
export function isRealDate(text: string): boolean {
  const match = DATE_TIME.exec(text)
  if (!match) return false
  const [year, month, day, hour = 0, minute = 0] = match.slice(1).map((p) => Number(p ?? 0))
  if (year === undefined || month === undefined || day === undefined) return false
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return false
  return hour <= 23 && minute <= 59
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function daysIn(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  return month === 2 && leap ? 29 : (DAYS[month - 1] as number)
}
