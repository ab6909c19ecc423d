/**
 * Two SNS topics, both TLS only:
 *  - alerts: rejections and deadline digests, for statisticians; subscriptions filter on the message
 *    attributes the handlers set (county, institution, template, period, severity, kind).
 *    Encrypted with the AWS-managed key alias/aws/sns (no key to pay for or manage).
 *  - ops: alarms and failures, for whoever runs the deployment.
 */
import { Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { Filter, Subscription } from '../config.ts';

export interface TopicsProps {
  stage: string;
  alerts: Subscription[];
  ops: Subscription[];
}

export class Topics extends Construct {
  readonly alerts: sns.Topic;
  readonly ops: sns.Topic;

  constructor(scope: Construct, id: string, props: TopicsProps) {
    super(scope, id);
    this.alerts = new sns.Topic(this, 'Alerts', {
      // ASCII: SNS display names (the e-mail sender name, the SMS prefix) allow little else
      displayName: `HMIS ${props.stage} alerts`,
      enforceSSL: true,
      masterKey: kms.Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
    });
    this.ops = new sns.Topic(this, 'Ops', {
      displayName: `HMIS ${props.stage} operations`,
      enforceSSL: true,
    });
    Validations.of(this.ops).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'CloudWatch alarms publish here, and CloudWatch cannot use the AWS-managed alias/aws/sns key; a customer managed key would cost more than a county deployment does. Messages are alarm states and failed event keys, no health figures.',
    });

    props.alerts.forEach((s, i) => this.subscribe(this.alerts, `Alert${i}`, s));
    props.ops.forEach((s, i) => this.subscribe(this.ops, `Ops${i}`, s));
  }

  private subscribe(topic: sns.Topic, id: string, s: Subscription): void {
    const filterPolicy = s.filter ? toFilterPolicy(s.filter) : undefined;
    const protocol = s.protocol === 'email' ? sns.SubscriptionProtocol.EMAIL : sns.SubscriptionProtocol.SMS;
    const created = new sns.Subscription(this, id, { topic, protocol, endpoint: s.endpoint, filterPolicy });
    Validations.of(created).acknowledge({
      id: 'Serverless-SNSRedrivePolicy',
      reason: 'An email or SMS subscription; what it announces is also stored (reports bucket, table), so an undelivered notification loses nothing.',
    });
  }
}

/** { county: ['150525'] } → an SNS filter policy on the message attribute `county`. */
export function toFilterPolicy(filter: Filter): Record<string, sns.SubscriptionFilter> {
  const policy: Record<string, sns.SubscriptionFilter> = {};
  for (const [attribute, values] of Object.entries(filter)) {
    if (values?.length) policy[attribute] = sns.SubscriptionFilter.stringFilter({ allowlist: values });
  }
  return policy;
}
