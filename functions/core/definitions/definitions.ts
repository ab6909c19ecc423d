/**
 * The definitions in force for a period, as every stage reads them: counties and their institutions,
 * institution types, templates and targets. One immutable snapshot, handed down (style.md practice 15):
 * nothing in the core reaches for a module-level registry.
 *
 * Lifecycle: an institution owes returns in month m when its 启用期 (from) ≤ m and m < its 停用期
 * (until). A merged institution (mergedInto) owes nothing from `until` on; its history counts under
 * the institution it was merged into (predecessorsOf).
 */
import type { County, DefinitionsContent, Institution, InstitutionType, Target, TemplateDefinition } from '../../../schemas/model.ts';
import { deadlineOf, dueWith, lastMonthOf } from '../consolidate/period.ts';
import { periodKind } from '../layout.ts';

export interface Located {
  county: County;
  institution: Institution;
}

/** Where a snapshot comes from: the definitions versions folded into it. */
export interface SnapshotInfo {
  /** the newest definitions version applied */
  version: number;
}

export class Definitions {
  readonly institutionTypes: readonly InstitutionType[];
  readonly counties: readonly County[];
  readonly templates: readonly TemplateDefinition[];
  private readonly byCode = new Map<string, Located>();
  private readonly predecessors = new Map<string, Institution[]>();

  constructor(
    readonly content: DefinitionsContent,
    readonly info: SnapshotInfo,
  ) {
    this.institutionTypes = content.institutionTypes;
    this.counties = content.counties;
    this.templates = content.templates;
    for (const county of content.counties) {
      for (const institution of county.institutions) {
        this.byCode.set(institution.code, { county, institution });
        if (institution.mergedInto) {
          const list = this.predecessors.get(institution.mergedInto) ?? [];
          list.push(institution);
          this.predecessors.set(institution.mergedInto, list);
        }
      }
    }
  }

  get version(): number {
    return this.info.version;
  }

  county(code: string): County | undefined {
    return this.counties.find((c) => c.code === code);
  }

  /** the counties of a city (1505), in definitions order */
  countiesOf(city: string): County[] {
    return this.counties.filter((c) => c.city.code === city);
  }

  institution(code: string): Located | undefined {
    return this.byCode.get(code);
  }

  template(id: string): TemplateDefinition | undefined {
    return this.templates.find((t) => t.id === id);
  }

  typeName(code: string): string {
    return this.institutionTypes.find((t) => t.code === code)?.name ?? code;
  }

  /** Templates an institution owes by its type and its extras, whatever the month. */
  templatesOf(institution: Institution): string[] {
    const type = this.institutionTypes.find((t) => t.code === institution.type);
    return [...new Set([...(type?.templates ?? []), ...institution.extraTemplates])].filter((id) => this.template(id)).sort();
  }

  /** Whether an institution owes returns in a period: 启用期 ≤ its last month < 停用期. */
  active(institution: Institution, period: string): boolean {
    const month = lastMonthOf(period);
    return (!institution.from || institution.from <= month) && (!institution.until || month < institution.until);
  }

  /**
   * Templates owed for a period (a month, a quarter, a year): those of its kind, the institution active and
   * each template in force (its 启用期 come) in the period's last month.
   */
  owed(institution: Institution, period: string): string[] {
    const month = lastMonthOf(period);
    const kind = periodKind(period);
    if (!this.active(institution, period)) return [];
    return this.templatesOf(institution).filter((id) => {
      const t = this.template(id)!;
      return t.periodType === kind && t.from <= month;
    });
  }

  /**
   * The returns due in the reporting window a month opens: the month's, and the latest quarter's and
   * year's ended by then (a quarterly return shows with its quarter's months until the next one ends).
   */
  returnsFor(institution: Institution, month: string): Array<{ template: string; period: string }> {
    return Object.values(dueWith(month)).flatMap((period) => this.owed(institution, period).map((template) => ({ template, period })));
  }

  /** Institutions of a county active in a month, in definitions order. */
  activeIn(county: County, month: string): Institution[] {
    return county.institutions.filter((i) => this.active(i, month));
  }

  /** The institutions merged into this one (directly), in definitions order. */
  predecessorsOf(code: string): Institution[] {
    return this.predecessors.get(code) ?? [];
  }

  /** The institution whose history an institution's later months count under (follows chains of merges). */
  successorOf(code: string): string {
    let at = code;
    for (let i = 0; i < 16; i++) {
      const next = this.byCode.get(at)?.institution.mergedInto;
      if (!next || !this.byCode.has(next)) return at;
      at = next;
    }
    return at;
  }

  /** The deadline day of a template in a county: the template's own, else the county's. */
  deadlineDay(county: County, template?: string): number {
    return (template ? this.template(template)?.deadlineDay : undefined) ?? county.deadlineDay;
  }

  /** When a return of a template for a period is due in a county (23:59:59.999 Asia/Shanghai). */
  deadlineOf(county: County, template: string, period: string): Date {
    return deadlineOf(period, this.deadlineDay(county, template), this.template(template)?.deadlineMonth ?? 1);
  }

  /** A county's targets for a year. */
  targetsOf(county: County, year: number): Target[] {
    return county.targets.filter((t) => t.year === year);
  }
}
