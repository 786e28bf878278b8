// The times of check-ins, in Beijing whatever the phone's zone: the day a visit counts for (the
// server counts one per place and Beijing day) and the clock time staff read on a card.

const dayFormat = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' })
const clockFormat = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })

const asDate = (value) => (value instanceof Date ? value : new Date(value))

/** An instant (Date, ISO string or ms) → its day in Beijing, 'YYYY-MM-DD'; '' when not a time. */
export function beijingDay(value = new Date()) {
  const date = asDate(value)
  return Number.isNaN(date.getTime()) ? '' : dayFormat.format(date)
}

/** An instant → '14:02' in Beijing; '' when not a time. */
export function hhmm(value) {
  const date = asDate(value)
  return Number.isNaN(date.getTime()) ? '' : clockFormat.format(date)
}
