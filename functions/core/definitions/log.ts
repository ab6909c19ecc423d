/**
 * Definitions as a log of versions. Each version is a set of changes in force from a period
 * (effective, YYYY-MM; the first version from the beginning). The definitions in force for a month
 * are the changes of every version in force by then, applied in version order to nothing.
 *
 * Changes are per entity and, for institutions, counties and types, per field: a later import that
 * takes effect earlier than a pending one (a new institution in December after next year's targets
 * were set for January) neither loses nor leaks the other's changes. A template changes as a whole.
 */
import { DefinitionsContent, type County, type Institution, type InstitutionType, type Target, type TemplateDefinition } from '../../../schemas/model.ts';
import { Definitions } from './definitions.ts';

export type Change =
  | { entity: 'type'; key: string; set: FieldChanges<InstitutionType> | null }
  | { entity: 'county'; key: string; set: FieldChanges<Omit<County, 'institutions' | 'targets'>> }
  | { entity: 'institution'; key: string; set: FieldChanges<Institution> }
  | { entity: 'template'; key: string; set: TemplateDefinition | null }
  | { entity: 'target'; key: string; set: Target | null };

/** fields to set; null removes an optional field */
export type FieldChanges<T> = { [K in keyof T]?: T[K] | null };

export interface DefinitionsVersion {
  version: number;
  /** YYYY-MM the version is in force from; null: from the beginning (the initial definitions) */
  effective: string | null;
  /** ISO time it was stored */
  createdAt: string;
  /** who stored it (hmis definitions import --by, later the signed-in person) */
  by: string;
  /** the change in words (Chinese), one phrase each */
  summary: string[];
  changes: Change[];
}

/** Every version, oldest first. Stored as one document per version (definitions/v<n>-<hash>.json). */
export interface DefinitionsLog {
  versions: DefinitionsVersion[];
}

/** A target's identity within a county: year, indicator and the institution types it is measured over. */
export function targetKey(county: string, t: Pick<Target, 'year' | 'indicator' | 'institutionTypes'>): string {
  return `${county}|${t.year}|${t.indicator}|${[...(t.institutionTypes ?? [])].sort().join(',')}`;
}

export const countyOfTargetKey = (key: string): string => key.slice(0, key.indexOf('|'));

/** The content after a list of changes, applied in order. Pure: the input is not modified. */
export function applyChanges(content: DefinitionsContent, changes: readonly Change[]): DefinitionsContent {
  const types = new Map(content.institutionTypes.map((t) => [t.code, t]));
  const counties = new Map(content.counties.map((c) => [c.code, { ...c, institutions: new Map(c.institutions.map((i) => [i.code, i])), targets: new Map(c.targets.map((t) => [targetKey(c.code, t), t])) }]));
  const templates = new Map(content.templates.map((t) => [t.id, t]));
  for (const change of changes) {
    switch (change.entity) {
      case 'type': {
        if (change.set === null) types.delete(change.key);
        else types.set(change.key, merge(types.get(change.key), change.set) as InstitutionType);
        break;
      }
      case 'county': {
        const before = counties.get(change.key);
        const { institutions, targets, ...fields } = before ?? { institutions: new Map(), targets: new Map() };
        counties.set(change.key, { ...(merge(fields, change.set) as Omit<County, 'institutions' | 'targets'>), institutions, targets });
        break;
      }
      case 'institution': {
        const county = counties.get(change.key.slice(0, 6));
        if (!county) throw new Error(`definitions: institution ${change.key} of an unknown county`);
        county.institutions.set(change.key, merge(county.institutions.get(change.key), change.set) as Institution);
        break;
      }
      case 'template': {
        if (change.set === null) templates.delete(change.key);
        else templates.set(change.key, change.set);
        break;
      }
      case 'target': {
        const county = counties.get(countyOfTargetKey(change.key));
        if (!county) throw new Error(`definitions: target ${change.key} of an unknown county`);
        if (change.set === null) county.targets.delete(change.key);
        else county.targets.set(change.key, change.set);
        break;
      }
    }
  }
  return {
    institutionTypes: [...types.values()],
    counties: [...counties.values()].map((c) => ({ ...c, institutions: [...c.institutions.values()], targets: [...c.targets.values()] })),
    templates: [...templates.values()],
  };
}

function merge<T extends object>(before: T | undefined, set: object): T {
  const out: Record<string, unknown> = { ...(before ?? {}) };
  for (const [k, v] of Object.entries(set)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out as T;
}

const EMPTY: DefinitionsContent = { institutionTypes: [], counties: [], templates: [] };

/** The versions in force for a month (effective ≤ month), or all of them (null). */
export function versionsInForce(log: DefinitionsLog, period: string | null): DefinitionsVersion[] {
  return log.versions.filter((v) => period === null || v.effective === null || v.effective <= period);
}

/**
 * The definitions in force for a month (YYYY-MM), or with every version applied (null: what an
 * export shows and the identity of users). Validated once more: a stored log that no longer makes
 * sense fails here, loudly, rather than in a stage that trusts it.
 */
export function resolveDefinitions(log: DefinitionsLog, period: string | null): Definitions {
  const versions = versionsInForce(log, period);
  if (!versions.length) throw new Error(`definitions: nothing in force for ${period}`);
  const content = DefinitionsContent.parse(versions.reduce((c, v) => applyChanges(c, v.changes), EMPTY));
  return new Definitions(content, { version: Math.max(...versions.map((v) => v.version)) });
}

/** The first version of a log: everything of a content, added (a new stack's or deployment's seed). */
export function initialVersion(content: DefinitionsContent, createdAt: string, by: string, summary: string[] = ['初始定义']): DefinitionsVersion {
  const changes: Change[] = [
    ...content.institutionTypes.map((t): Change => ({ entity: 'type', key: t.code, set: t })),
    ...content.counties.flatMap((c): Change[] => {
      const { institutions, targets, ...fields } = c;
      return [
        { entity: 'county', key: c.code, set: fields },
        ...institutions.map((i): Change => ({ entity: 'institution', key: i.code, set: i })),
        ...targets.map((t): Change => ({ entity: 'target', key: targetKey(c.code, t), set: t })),
      ];
    }),
    ...content.templates.map((t): Change => ({ entity: 'template', key: t.id, set: t })),
  ];
  return { version: 1, effective: null, createdAt, by, summary, changes };
}

/** Every version a template id ever had, across the log (a layout change takes the next number). */
export function templateVersionsEver(log: DefinitionsLog, id: string): TemplateDefinition[] {
  const out = new Map<number, TemplateDefinition>();
  for (const v of log.versions) for (const c of v.changes) if (c.entity === 'template' && c.key === id && c.set) out.set(c.set.version, c.set);
  return [...out.values()].sort((a, b) => a.version - b.version);
}
