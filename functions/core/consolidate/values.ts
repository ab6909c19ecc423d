/**
 * Accepted indicator values held in columns, apart from the entries that carry them (issue 17): a
 * province's year, 36,000 returns × 100 elements, takes ~300 MB as one object per return and 29 MB
 * as doubles. Per template and period, an institution index and Float64Arrays of institutions ×
 * the template's elements (NaN where the return has no number). The loader moves each accepted
 * indicator return's values here as it reads them; an entry whose values are held here keeps none.
 */
import type { TemplateDefinition } from '../../../schemas/model.ts';

/** Rows are kept in blocks of this many: a table grows by a block, never copies what it holds. */
const BLOCK_ROWS = 256;

interface Grid {
  index: Map<string, number>;
  blocks: Float64Array<ArrayBuffer>[];
}

export class ValueTable {
  private readonly codes = new Map<string, readonly string[]>();
  /** template → period → grid */
  private readonly grids = new Map<string, Map<string, Grid>>();

  /** The indicator templates whose values it holds, in the element order consolidation reads them. */
  constructor(templates: readonly TemplateDefinition[]) {
    for (const t of templates) if (t.kind === 'indicator') this.codes.set(t.id, t.elements.map((e) => e.code));
  }

  /** Takes one return's values; false for a template it does not hold (the values stay where they are). */
  hold(period: string, template: string, institution: string, values: Readonly<Record<string, unknown>>): boolean {
    const codes = this.codes.get(template);
    if (!codes) return false;
    let byPeriod = this.grids.get(template);
    if (!byPeriod) this.grids.set(template, (byPeriod = new Map()));
    let grid = byPeriod.get(period);
    if (!grid) byPeriod.set(period, (grid = { index: new Map(), blocks: [] }));
    let at = grid.index.get(institution);
    if (at === undefined) {
      at = grid.index.size;
      if (at % BLOCK_ROWS === 0) grid.blocks.push(new Float64Array(BLOCK_ROWS * codes.length));
      grid.index.set(institution, at);
    }
    readValues(values, codes, rowIn(grid, at, codes.length));
    return true;
  }

  /** The element codes it holds a template's values in, or undefined for a template it does not hold. */
  codesOf(template: string): readonly string[] | undefined {
    return this.codes.get(template);
  }

  /** One institution's values of a period, in the template's element order (a view into the table: copy before changing), or null. */
  row(period: string, template: string, institution: string): Float64Array<ArrayBuffer> | null {
    const grid = this.grids.get(template)?.get(period);
    const at = grid?.index.get(institution);
    return grid && at !== undefined ? rowIn(grid, at, this.codes.get(template)!.length) : null;
  }
}

const rowIn = (grid: Grid, at: number, width: number): Float64Array<ArrayBuffer> =>
  new Float64Array(grid.blocks[Math.floor(at / BLOCK_ROWS)]!.buffer, (at % BLOCK_ROWS) * width * Float64Array.BYTES_PER_ELEMENT, width);

/** A return's values in element order: its own finite numbers only (nothing from a prototype), else NaN. */
export function readValues(values: Readonly<Record<string, unknown>>, codes: readonly string[], into: Float64Array<ArrayBuffer> = new Float64Array(codes.length)): Float64Array<ArrayBuffer> {
  for (let j = 0; j < codes.length; j++) {
    const code = codes[j]!;
    const x = values[code];
    into[j] = typeof x === 'number' && Number.isFinite(x) && Object.hasOwn(values, code) ? x : NaN;
  }
  return into;
}
