/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy --all` (cdk.json runs `npx tsx infra/app.ts`).
 * Configuration from context and/or `-c config=<file>` (infra/config.ts); the cdk-nag AwsSolutions
 * and Serverless packs run on every synth (`-c nag=false` skips them), so an unacknowledged finding
 * fails `cdk synth` as it fails the test suite.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { DeployConfigError, loadDeployConfig } from './config.ts';
import { hmisApp } from './stack.ts';

const app = new App();
let config;
try {
  config = loadDeployConfig((key) => app.node.tryGetContext(key));
} catch (err) {
  if (!(err instanceof DeployConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}

// hmis-<stage> and hmis-<stage>-edge (the portal's web ACL, us-east-1): infra/stack.ts hmisApp
hmisApp(app, `hmis-${config.stage}`, {
  config,
  description: `hmis-sheets ${config.stage}: county health statistics returns (counties ${config.counties.join(', ')})`,
  // environment-agnostic unless the CLI knows the account (synth works with no credentials)
  env: process.env.CDK_DEFAULT_ACCOUNT ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } : undefined,
  tags: { project: 'hmis-sheets', stage: config.stage },
});

if (app.node.tryGetContext('nag') !== 'false' && app.node.tryGetContext('nag') !== false) {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
}
app.synth();
