/**
 * Who may upload where. Each institution writes only under its own prefix
 * `uploads/<county>/<institution>/*` (PutObject, nothing else); a county's health commission writes
 * under `uploads/<county>/*` and reads its consolidated workbooks `consolidated/<county>/*`.
 * The ingest function refuses an upload whose key does not match its workbook in any case.
 *
 * Two mechanisms (config `institutionAccess`):
 *  - per-institution: one customer managed policy per institution from the registry, named
 *    `hmis-<stage>-upload-<institution>`, to attach to that institution's IAM user, group or role;
 *  - by-tag: one policy for all, scoped by the principal's tags `hmis-county` and `hmis-institution`
 *    (for a province: thousands of policies would exceed the account's and the stack's limits).
 * Commission policies `hmis-<stage>-commission-<county>` are created in both modes.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { UPLOAD_PREFIX } from '../../functions/config.ts';
import type { County } from '../../schemas/index.ts';
import { CONSOLIDATE_WRITES } from './consolidate.ts';
import { acknowledgeScopedResources } from './defaults.ts';

export interface UploadAccessProps {
  stage: string;
  mode: 'per-institution' | 'by-tag' | 'none';
  counties: readonly County[];
  uploadsBucketArn: string;
  reports: s3.IBucket;
}

/** Principal tag keys read by the by-tag policy. */
export const ACCESS_TAGS = { county: 'hmis-county', institution: 'hmis-institution' } as const;

export class UploadAccess extends Construct {
  readonly institutionPolicies = new Map<string, iam.ManagedPolicy>();
  readonly commissionPolicies = new Map<string, iam.ManagedPolicy>();
  byTagPolicy?: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: UploadAccessProps) {
    super(scope, id);
    if (props.mode === 'none') return;
    const uploads = (suffix: string) => `${props.uploadsBucketArn}/${UPLOAD_PREFIX}${suffix}`;

    for (const county of props.counties) {
      const commission = new iam.ManagedPolicy(this, `Commission${county.code}`, {
        managedPolicyName: `hmis-${props.stage}-commission-${county.code}`,
        description: `Health commission of county ${county.code}: upload under uploads/${county.code}/, read consolidated/${county.code}/`,
        statements: [
          new iam.PolicyStatement({ sid: 'UploadCounty', actions: ['s3:PutObject'], resources: [uploads(`${county.code}/*`)] }),
          new iam.PolicyStatement({
            sid: 'ReadConsolidated',
            actions: ['s3:GetObject'],
            resources: [props.reports.arnForObjects(`${CONSOLIDATE_WRITES}${county.code}/*`)],
          }),
          new iam.PolicyStatement({
            sid: 'ListConsolidated',
            actions: ['s3:ListBucket'],
            resources: [props.reports.bucketArn],
            conditions: { StringLike: { 's3:prefix': [`${CONSOLIDATE_WRITES}${county.code}/*`] } },
          }),
        ],
      });
      this.commissionPolicies.set(county.code, commission);
      acknowledgeScopedResources(commission, commission.document, 'Upload and read under the county prefix only: the keys below it are the institutions, templates and periods of that county.');

      if (props.mode !== 'per-institution') continue;
      for (const inst of county.institutions) {
        const policy = new iam.ManagedPolicy(this, `Institution${inst.code.replace('-', '')}`, {
          managedPolicyName: `hmis-${props.stage}-upload-${inst.code}`,
          description: `Institution ${inst.code}: upload under uploads/${county.code}/${inst.code}/ only`,
          statements: [new iam.PolicyStatement({ sid: 'UploadOwnReturns', actions: ['s3:PutObject'], resources: [uploads(`${county.code}/${inst.code}/*`)] })],
        });
        this.institutionPolicies.set(inst.code, policy);
        acknowledgeScopedResources(policy, policy.document, "PutObject under the institution's own prefix only: the keys below it are its templates and periods.");
      }
    }

    if (props.mode === 'by-tag') {
      // IAM policy variables, resolved per request from the caller's tags (a missing tag matches nothing)
      const tag = (key: string) => '${aws:PrincipalTag/' + key + '}';
      this.byTagPolicy = new iam.ManagedPolicy(this, 'InstitutionByTag', {
        managedPolicyName: `hmis-${props.stage}-upload-by-tag`,
        description: `Upload under uploads/<${ACCESS_TAGS.county}>/<${ACCESS_TAGS.institution}>/ of the caller's tags`,
        statements: [
          new iam.PolicyStatement({
            sid: 'UploadOwnReturns',
            actions: ['s3:PutObject'],
            resources: [uploads(`${tag(ACCESS_TAGS.county)}/${tag(ACCESS_TAGS.institution)}/*`)],
          }),
        ],
      });
      acknowledgeScopedResources(this.byTagPolicy, this.byTagPolicy.document, "PutObject under the prefix named by the caller's own principal tags only.");
    }
  }
}
