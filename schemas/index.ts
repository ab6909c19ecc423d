/**
 * The bundled initial definitions: the JSON under schemas/, from the seed documents. A new local stack,
 * a first deployment (the CDK stack) and a command run without a stack load these when the store has
 * none; from then on the definitions are the commission's, in the store (functions/core/definitions).
 * The functions never import this module: they read definitions through the DefinitionsPort.
 */
import { DefinitionsContent } from './model.ts';
import { checkDefinitions } from '../functions/core/definitions/check.ts';
import type { Definitions } from '../functions/core/definitions/definitions.ts';
import { initialVersion, resolveDefinitions, type DefinitionsLog } from '../functions/core/definitions/log.ts';
import { fixedDefinitions, type DefinitionsPort } from '../functions/core/definitions/source.ts';
import tJC from './templates/T-JC.v1.json' with { type: 'json' };
import tYY from './templates/T-YY.v1.json' with { type: 'json' };
import tFY from './templates/T-FY.v1.json' with { type: 'json' };
import tJK from './templates/T-JK.v1.json' with { type: 'json' };
import tQY from './templates/T-QY.v1.json' with { type: 'json' };
import tND from './templates/T-ND.v1.json' with { type: 'json' };
import tTZ from './templates/T-TZ.v1.json' with { type: 'json' };
import types from './registry/institution-types.json' with { type: 'json' };
import c150525 from './registry/150525.json' with { type: 'json' };
import c150425 from './registry/150425.json' with { type: 'json' };
import c150822 from './registry/150822.json' with { type: 'json' };
import c150627 from './registry/150627.json' with { type: 'json' };

export * from './model.ts';

/** When the bundled definitions say they were made (a fixed time: the seed is reproducible). */
export const SEED_CREATED_AT = '2024-01-01T00:00:00.000Z';
export const SEED_BY = 'hmis-sheets（初始定义，schemas/）';

let content: DefinitionsContent | undefined;

/** The bundled definitions set, validated and checked as a whole (a broken seed fails loudly). */
export function bundledContent(): DefinitionsContent {
  if (content) return content;
  const parsed = DefinitionsContent.parse({ institutionTypes: types, counties: [c150525, c150425, c150822, c150627], templates: [tJC, tYY, tFY, tJK, tQY, tND, tTZ] });
  const problems = checkDefinitions(parsed);
  if (problems.length) throw new Error(`schemas/: ${problems.map((p) => `${p.sheet} ${p.key} ${p.field}「${p.value}」${p.message}`).join('; ')}`);
  return (content = parsed);
}

/** The log a new store is seeded with: one version, in force from the beginning. */
export function bundledLog(): DefinitionsLog {
  return { versions: [initialVersion(bundledContent(), SEED_CREATED_AT, SEED_BY)] };
}

let snapshot: Definitions | undefined;

/** The bundled definitions resolved (tests, fixtures, benches: what a freshly seeded store holds). */
export function bundledDefinitions(): Definitions {
  return (snapshot ??= resolveDefinitions(bundledLog(), null));
}

/** The bundled definitions behind the DefinitionsPort (commands without a stack, tests). */
export function bundledSource(): DefinitionsPort {
  return fixedDefinitions(bundledLog());
}
