// The CDK app: `cdk synth|deploy -c stage=dev|prod` builds the stack of that stage, with
// cdk-nag's AwsSolutions rules applied to everything in it. Every acknowledged rule sits next
// to the resource it concerns, with its reason, and is listed in docs/operations.md ("cdk-nag acknowledgements").
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LinkTokenStack } from './link-token-stack.ts';
import { resolveStage } from './stages.ts';

export function createLinkTokenApp(props: AppProps = {}): { app: App; stack: LinkTokenStack } {
  const app = new App(props);
  const stage = resolveStage((key) => app.node.tryGetContext(key));
  const stack = new LinkTokenStack(app, `link-token-${stage.name}`, {
    stage,
    description: `Plaid Link token service, ${stage.name} stage`,
    env: { account: stage.settings.account, region: stage.settings.region },
    tags: { service: 'link-token', stage: stage.name },
  });
  // Acknowledgements are also written into each resource's Metadata (cdk_nag), the audit trail
  // a reviewer of the template sees without the code.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }));
  return { app, stack };
}

if (import.meta.main) {
  try {
    createLinkTokenApp().app.synth();
  } catch (error) {
    // Configuration mistakes are the user's to fix: the message names the stage setting or
    // the tenant, profile and field; a stack trace would only hide it.
    if (error instanceof Error && ['TenantConfigError', 'StageSettingsError'].includes(error.name)) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
