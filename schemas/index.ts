/**
 * Loads and validates the data that drives everything: template definitions and the registry.
 * The JSON is imported (not read from disk) so a bundled Lambda carries it and never reads the repo.
 */
import { z } from 'zod';
import { County, Indicator, InstitutionType, TemplateDefinition, type Institution } from './model.ts';
import tJC from './templates/T-JC.v1.json' with { type: 'json' };
import tYY from './templates/T-YY.v1.json' with { type: 'json' };
import tFY from './templates/T-FY.v1.json' with { type: 'json' };
import tJK from './templates/T-JK.v1.json' with { type: 'json' };
import tTZ from './templates/T-TZ.v1.json' with { type: 'json' };
import types from './registry/institution-types.json' with { type: 'json' };
import c150525 from './registry/150525.json' with { type: 'json' };
import c150425 from './registry/150425.json' with { type: 'json' };
import c150822 from './registry/150822.json' with { type: 'json' };
import c150627 from './registry/150627.json' with { type: 'json' };

export * from './model.ts';

/** Every template definition, all versions, checked for internal consistency. */
export const TemplateSet = z.array(TemplateDefinition).superRefine((defs, ctx) => {
  const ids = new Set<string>();
  for (const [i, def] of defs.entries()) {
    const key = `${def.id}@${def.version}`;
    if (ids.has(key)) ctx.addIssue({ code: 'custom', path: [i], message: `duplicate template ${key}` });
    ids.add(key);
    if (def.kind !== 'indicator') continue;
    const codes = new Set<string>();
    for (const el of def.elements) {
      if (codes.has(el.code)) ctx.addIssue({ code: 'custom', path: [i, 'elements'], message: `duplicate element ${el.code} in ${key}` });
      codes.add(el.code);
    }
    const refs = [
      ...def.rules.flatMap((r) => [...r.left, ...r.right].map((c) => [r.id, c] as const)),
      ...def.indicators.flatMap((x) => [...x.numerator, ...x.denominator].map((c) => [x.code, c] as const)),
    ];
    for (const [owner, code] of refs) {
      if (!codes.has(code)) ctx.addIssue({ code: 'custom', path: [i], message: `${owner} refers to ${code}, not an element of ${key}` });
    }
  }
});

export const Registry = z
  .object({ institutionTypes: z.array(InstitutionType), counties: z.array(County) })
  .superRefine((reg, ctx) => {
    const typeCodes = new Set(reg.institutionTypes.map((t) => t.code));
    for (const county of reg.counties) {
      for (const inst of county.institutions) {
        if (!typeCodes.has(inst.type)) ctx.addIssue({ code: 'custom', message: `${inst.code}: unknown type ${inst.type}` });
      }
    }
  });
export type Registry = z.infer<typeof Registry>;

export const templates: readonly TemplateDefinition[] = TemplateSet.parse([tJC, tYY, tFY, tJK, tTZ]);
export const registry: Registry = Registry.parse({ institutionTypes: types, counties: [c150525, c150425, c150822, c150627] });

checkTargets(registry, templates);

function checkTargets(reg: Registry, defs: readonly TemplateDefinition[]): void {
  const known = new Set<string>();
  for (const def of defs) {
    if (def.kind !== 'indicator') continue;
    def.elements.forEach((e) => known.add(e.code));
    def.indicators.forEach((x) => known.add(x.code));
  }
  for (const county of reg.counties) {
    for (const target of county.targets) {
      if (!known.has(target.indicator)) throw new Error(`registry ${county.code}: target on unknown indicator ${target.indicator}`);
    }
  }
}

/** The newest version of a template id, or a given version. */
export function findTemplate(id: string, version?: number): TemplateDefinition | undefined {
  const matching = templates.filter((t) => t.id === id && (version === undefined || t.version === version));
  return matching.sort((a, b) => b.version - a.version)[0];
}

export function currentTemplate(id: string): TemplateDefinition {
  const def = templates.filter((t) => t.id === id && t.accepting).sort((a, b) => b.version - a.version)[0];
  if (!def) throw new Error(`no accepted version of template ${id}`);
  return def;
}

export function findCounty(code: string) {
  return registry.counties.find((c) => c.code === code);
}

export function findInstitution(code: string): { county: County; institution: Institution } | undefined {
  const county = registry.counties.find((c) => code.startsWith(c.code + '-'));
  const institution = county?.institutions.find((i) => i.code === code);
  return county && institution ? { county, institution } : undefined;
}

/** Templates an institution owes: its type's, plus its own extras. */
export function templatesOwed(institution: Institution): string[] {
  const type = registry.institutionTypes.find((t) => t.code === institution.type);
  return [...new Set([...(type?.templates ?? []), ...institution.extraTemplates])].sort();
}

export function institutionTypeName(code: string): string {
  return registry.institutionTypes.find((t) => t.code === code)?.name ?? code;
}

export type { County, Institution, Indicator };
