/**
 * Accepted indicator values held in columns, apart from the entries that carry them (issue 17): a
 * province's year, 36,000 returns × 100 elements, takes ~300 MB as one object per return and 29 MB
 * as doubles. Per template and period, an institution index and Float64Arrays of institutions × the
 * template's elements (NaN where the return has no number); a number under any other code (an element
 * of another version of the template) is kept beside its row. The loader moves each accepted
 * indicator return's values here as it reads them; an entry whose values are held here keeps none.
 * Read by any list of codes, a row is what `readValues` would give of the return's own values.
 */
import type { TemplateDefinition } from '../../../schemas/model.ts';

/** Rows are kept in blocks of this many: a table grows by a block, never copies what it holds. */
const BLOCK_ROWS = 256;

interface Grid {
  index: Map<string, number>;
  blocks: Float64Array<ArrayBuffer>[];
  /** by row: the return's own finite numbers under codes not of the template (rare) */
  others: Map<number, Map<string, number>>;
}

/** How a list of codes is read from a template's rows (ValueTable.columns). */
export interface ValueColumns {
  template: string;
  codes: readonly string[];
  /** per code: its column in the template's rows, or -1 */
  column: Int32Array;
  /** the codes are the template's own, in its order: a row is read as stored */
  asStored: boolean;
}

export class ValueTable {
  private readonly codes = new Map<string, { list: readonly string[]; set: ReadonlySet<string> }>();
  /** template → period → grid */
  private readonly grids = new Map<string, Map<string, Grid>>();

  /** The indicator templates whose values it holds, their rows in element order. */
  constructor(templates: readonly TemplateDefinition[]) {
    for (const t of templates) {
      if (t.kind !== 'indicator') continue;
      const list = t.elements.map((e) => e.code);
      this.codes.set(t.id, { list, set: new Set(list) });
    }
  }

  /** Takes one return's values; false for a template it does not hold (the values stay where they are). */
  hold(period: string, template: string, institution: string, values: Readonly<Record<string, unknown>>): boolean {
    const codes = this.codes.get(template);
    if (!codes) return false;
    let byPeriod = this.grids.get(template);
    if (!byPeriod) this.grids.set(template, (byPeriod = new Map()));
    let grid = byPeriod.get(period);
    if (!grid) byPeriod.set(period, (grid = { index: new Map(), blocks: [], others: new Map() }));
    let at = grid.index.get(institution);
    if (at === undefined) {
      at = grid.index.size;
      if (at % BLOCK_ROWS === 0) grid.blocks.push(new Float64Array(BLOCK_ROWS * codes.list.length));
      grid.index.set(institution, at);
    }
    readValues(values, codes.list, rowIn(grid, at, codes.list.length));
    grid.others.delete(at);
    for (const code of Object.getOwnPropertyNames(values)) {
      const x = values[code];
      if (codes.set.has(code) || typeof x !== 'number' || !Number.isFinite(x)) continue;
      let others = grid.others.get(at);
      if (!others) grid.others.set(at, (others = new Map()));
      others.set(code, x);
    }
    return true;
  }

  /** How `codes` are read from a template's rows, or null for a template it does not hold. */
  columns(template: string, codes: readonly string[]): ValueColumns | null {
    const held = this.codes.get(template)?.list;
    if (!held) return null;
    const position = new Map(held.map((c, j) => [c, j]));
    const column = Int32Array.from(codes, (c) => position.get(c) ?? -1);
    return { template, codes, column, asStored: codes.length === held.length && column.every((j, i) => j === i) };
  }

  /**
   * One institution's values of a period in the order of `columns`, or null when it holds none: as
   * stored, a view into the table (copy before changing); else a fresh array.
   */
  row(period: string, institution: string, columns: ValueColumns): Float64Array<ArrayBuffer> | null {
    const grid = this.grids.get(columns.template)?.get(period);
    const at = grid?.index.get(institution);
    if (!grid || at === undefined) return null;
    const stored = rowIn(grid, at, this.codes.get(columns.template)!.list.length);
    if (columns.asStored) return stored;
    const others = grid.others.get(at);
    const out = new Float64Array(columns.codes.length);
    for (let j = 0; j < out.length; j++) {
      const c = columns.column[j]!;
      out[j] = c >= 0 ? stored[c]! : (others?.get(columns.codes[j]!) ?? NaN);
    }
    return out;
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
