#!/usr/bin/env node
// Entry point of the `hmis` command: runs the TypeScript CLI through tsx, no build step.
import { register } from 'tsx/esm/api';

// the AWS SDK warns on every start that its 2027 releases will need node 22: true, and not actionable here
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const text = typeof warning === 'string' ? warning : warning?.message;
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'NodeVersionSupportWarning' || /AWS SDK for JavaScript \(v3\)/.test(text ?? '')) return;
  emitWarning(warning, ...rest);
};

register();
const { main } = await import('../functions/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
