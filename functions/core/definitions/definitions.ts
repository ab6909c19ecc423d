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

  /** Whether an institution owes returns in a month (YYYY-MM): 启用期 ≤ month < 停用期. */
  active(institution: Institution, month: string): boolean {
    return (!institution.from || institution.from <= month) && (!institution.until || month < institution.until);
  }

  /** Templates owed for a month: the institution is active and each template is in force (its 启用期 has come). */
  owed(institution: Institution, month: string): string[] {
    if (!this.active(institution, month)) return [];
    return this.templatesOf(institution).filter((id) => this.template(id)!.from <= month);
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

  /** A county's targets for a year. */
  targetsOf(county: County, year: number): Target[] {
    return county.targets.filter((t) => t.year === year);
  }
}
