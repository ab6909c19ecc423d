/** Minimal, strict argument parsing for the CLI: --flag value, --bool, positionals. */
export class UsageError extends Error {}

export interface ParsedArgs {
  flags: Record<string, string | true>;
  positionals: string[];
}

/** `spec` maps each allowed flag to 'string' or 'boolean'; anything else is a usage error. */
export function parseArgs(argv: string[], spec: Record<string, 'string' | 'boolean'>): ParsedArgs {
  const flags: Record<string, string | true> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const [rawName, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const kind = spec[rawName];
    if (!kind) throw new UsageError(`unknown option --${rawName}`);
    if (kind === 'boolean') {
      flags[rawName] = true;
    } else {
      const value = inline ?? argv[++i];
      if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`--${rawName} needs a value`);
      flags[rawName] = value;
    }
  }
  return { flags, positionals };
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function requireFlag(args: ParsedArgs, name: string): string {
  const v = stringFlag(args, name);
  if (!v) throw new UsageError(`--${name} is required`);
  return v;
}

/** The operator, as the audit trail names a command's changes. */
export const cliActor = (args: ParsedArgs) => {
  const by = stringFlag(args, 'by') ?? process.env.USER ?? 'operator';
  return { username: `cli:${by.slice(0, 40)}`, name: by.slice(0, 40) };
};
