// Money is integer fen everywhere (as the API sends it); these turn it into text and back.

/** 123456 → '¥1,234.56'; -500 → '-¥5.00'. */
export function formatYuan(fen, { symbol = true } = {}) {
  if (fen == null || !Number.isFinite(Number(fen))) return ''
  const n = Math.trunc(Number(fen))
  const sign = n < 0 ? '-' : ''
  const abs = Math.abs(n)
  const yuan = Math.floor(abs / 100).toLocaleString('en-US')
  return `${sign}${symbol ? '¥' : ''}${yuan}.${String(abs % 100).padStart(2, '0')}`
}

/** '1,234.5' → 123450; '' or anything not a non-negative amount with at most 2 decimals → null. */
export function parseYuan(text) {
  const clean = String(text ?? '').replace(/[,，\s¥￥]/g, '')
  const match = /^(\d{1,10})(?:\.(\d{0,2}))?$/.exec(clean)
  if (!match) return null
  return Number(match[1]) * 100 + Number((match[2] || '').padEnd(2, '0'))
}

/** 5000 (basis points) → '50%'; 3333 → '33.33%'. */
export function formatRatio(bp) {
  return `${Number((bp / 100).toFixed(2))}%`
}
