/**
 * Numbers as a commission writes them in a work summary and as the consolidated workbook shows them:
 * counts whole (27917), decimals and rates to two places (86.35%, 1.52‰), the same rounding as the
 * workbook's number formats (0.00"%"), so a figure in the text equals the figure in the workbook.
 */

/** 86.35% | 1.52‰ | 50.66/10万 | 1.30 | 27917 | 3.50 */
export function formatValue(value: number, unit: string): string {
  if (unit === '%') return `${fixed2(value)}%`;
  if (unit === '‰') return `${fixed2(value)}‰`;
  if (unit === '1/10万') return `${fixed2(value)}/10万`;
  if (unit === '比值') return fixed2(value);
  return Number.isInteger(value) ? String(value) : fixed2(value);
}

/** Two decimals, half away from zero on the decimal value (as Excel displays 0.00), never "-0.00". */
export function fixed2(value: number): string {
  const r = Math.round(Math.abs(value) * 100 + 1e-9) / 100;
  const s = r.toFixed(2);
  return value < 0 && r !== 0 ? `-${s}` : s;
}
