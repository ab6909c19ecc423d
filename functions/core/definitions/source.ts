/**
 * How the core gets definitions: through this port, for the period at hand. The stored source keeps
 * the log per process (a Lambda container) and checks the store's head at most every `maxAgeMs`
 * (one small read), so a new version is seen within a minute without a redeploy.
 */
import type { DefinitionsStore } from '../../ports/index.ts';
import { parsePeriod } from '../consolidate/period.ts';
import type { Definitions } from './definitions.ts';
import { resolveDefinitions, versionsInForce, type DefinitionsLog } from './log.ts';

export interface DefinitionsPort {
  /** the definitions in force for a period: a month, or a quarter's or year's last month */
  at(period: string): Promise<Definitions>;
  /** every version applied, future ones included: what an export shows, whom the portal knows */
  latest(): Promise<Definitions>;
  /** every version (history, imports) */
  log(): Promise<DefinitionsLog>;
  /** forget what is cached: this process has just stored a version */
  invalidate?(): void;
}

/** The month whose definitions a period uses: a quarter or a year uses its last month's. */
export function definitionsMonth(period: string): string {
  const months = parsePeriod(period).months;
  return months[months.length - 1]!;
}

/** A fixed log: the bundled seed in a command without a stack, and unit tests. */
export function fixedDefinitions(log: DefinitionsLog): DefinitionsPort {
  const resolved = new Resolver();
  return {
    at: async (period) => resolved.get(log, definitionsMonth(period)),
    latest: async () => resolved.get(log, null),
    log: async () => log,
  };
}

/** Snapshots memoised by the set of versions they fold: months between two effective dates share one. */
class Resolver {
  private readonly cache = new Map<string, Definitions>();

  get(log: DefinitionsLog, period: string | null): Definitions {
    const key = versionsInForce(log, period)
      .map((v) => v.version)
      .join(',');
    let defs = this.cache.get(key);
    if (!defs) this.cache.set(key, (defs = resolveDefinitions(log, period)));
    return defs;
  }
}

export interface StoredDefinitionsOptions {
  /** how old the cached log may get before the head is checked again; default 30 s */
  maxAgeMs?: number;
  /** milliseconds clock (tests) */
  clock?: () => number;
}

export const DEFINITIONS_MAX_AGE_MS = 30_000;

export class StoredDefinitions implements DefinitionsPort {
  private cached: { version: number; log: DefinitionsLog; checkedAt: number } | null = null;
  private loading: Promise<DefinitionsLog> | null = null;
  private resolver = new Resolver();

  constructor(
    private readonly store: DefinitionsStore,
    private readonly options: StoredDefinitionsOptions = {},
  ) {}

  async at(period: string): Promise<Definitions> {
    return this.resolver.get(await this.log(), definitionsMonth(period));
  }

  async latest(): Promise<Definitions> {
    return this.resolver.get(await this.log(), null);
  }

  async log(): Promise<DefinitionsLog> {
    const now = (this.options.clock ?? Date.now)();
    if (this.cached && now - this.cached.checkedAt < (this.options.maxAgeMs ?? DEFINITIONS_MAX_AGE_MS)) return this.cached.log;
    this.loading ??= this.refresh(now).finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  /** Forget the cache: the next read goes to the store (after this process stored a version). */
  invalidate(): void {
    this.cached = null;
  }

  private async refresh(now: number): Promise<DefinitionsLog> {
    const head = await this.store.head();
    if (!head) throw new Error('definitions: none stored yet (a new stack seeds them at start; a deployment at its first deploy)');
    if (this.cached && this.cached.version === head.version) {
      this.cached.checkedAt = now;
      return this.cached.log;
    }
    const log = await this.store.read(head);
    this.cached = { version: head.version, log, checkedAt: now };
    this.resolver = new Resolver();
    return log;
  }
}
