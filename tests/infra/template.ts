/** Reading a synthesised stack in the infra tests: resources by type, role statements, values flattened. */
import type { CfnElement, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; DependsOn?: string[] };
export type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Sid?: string; Condition?: unknown };

export const ref = (id: string) => ({ Ref: id });
export const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
export const actionsOf = (s: Statement) => [s.Action].flat();
export const resourcesOf = (s: Statement) => [s.Resource].flat();

/** CloudFormation values flattened for comparison: Join joined, GetAtt → <Id> (Arn) or <Id.Attr>, Ref → <Id>, Sub as written. */
export function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(flat).join(v['Fn::Join'][0]);
  if (v['Fn::GetAtt']) return `<${v['Fn::GetAtt'][0]}${v['Fn::GetAtt'][1] === 'Arn' ? '' : `.${v['Fn::GetAtt'][1]}`}>`;
  if (v['Fn::Sub']) return v['Fn::Sub'] as string;
  if (v.Ref) return `<${v.Ref}>`;
  return JSON.stringify(value);
}

/** Helpers over one stack's resources (call once the template is synthesised). */
export function inspect(stack: Stack, resources: Record<string, Resource>) {
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  return {
    ofType,
    logicalId: (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement),
    /** the statements of every policy attached to a role (inline default policy) */
    roleStatements: (roleId: string): Statement[] =>
      ofType('AWS::IAM::Policy')
        .filter(([, p]) => (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify(ref(roleId))))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]),
  };
}

/** The context keys every deployment needs (infra/config.ts portalApi): where CloudFront reaches the portal's API. */
export const PORTAL_API_CONTEXT = {
  portalApiDomain: 'api.hmis.example.org',
  portalApiCertificateArn: 'arn:aws:acm:ap-east-1:123456789012:certificate/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
} as const;
