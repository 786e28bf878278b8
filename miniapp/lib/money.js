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

/**
 * What someone typed in 元 → integer fen, strictly: '12.5' → 1250, '1,234.5' → 123450, '￥ 100' → 10000.
 * null for '' and for anything that is not a non-negative amount with at most 2 decimals and at
 * most 10 digits of 元 ('-1', '1.234', '1e3', '1,2,3', '12.5元', '0x10'). Commas only between groups of three.
 */
export function parseYuan(text) {
  const clean = String(text ?? '').trim().replace(/^[¥￥]\s*/, '').replace(/，/g, ',')
  const match = /^(\d{1,10}|\d{1,3}(?:,\d{3}){1,3})(?:\.(\d{0,2}))?$/.exec(clean)
  if (!match) return null
  const yuan = match[1].replace(/,/g, '')
  if (yuan.length > 10) return null
  return Number(yuan) * 100 + Number((match[2] || '').padEnd(2, '0'))
}

/** Fen → what an amount field shows for editing: 50050 → '500.5', 200000 → '2000', null → ''. */
export function yuanInput(fen) {
  if (fen == null || !Number.isFinite(Number(fen))) return ''
  return (Number(fen) / 100).toFixed(2).replace(/\.?0+$/, '')
}

/** 5000 (basis points) → '50%'; 3333 → '33.33%'. */
export function formatRatio(bp) {
  return `${Number((bp / 100).toFixed(2))}%`
}
