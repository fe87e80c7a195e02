import { AspectPriority, Aspects, CfnResource, CustomResourceProviderBase, IAspect, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/** An inline policy as a role's `Policies` property holds it. */
interface InlinePolicy {
  readonly PolicyName: string;
  readonly PolicyDocument: unknown;
}

const stacksDone = new WeakSet<Stack>();

/**
 * Keeps the stack of `scope` free of inline role policies that aws-cdk-lib writes itself: the roles
 * of its custom resource providers (`CustomResourceProvider`, e.g. the provider of
 * `Custom::VpcRestrictDefaultSG` that `ec2.Vpc` creates for `restrictDefaultSecurityGroup`) carry
 * their statements in `Policies`. Each such inline policy becomes a customer managed policy
 * attached to the same role (same statements), and everything that waits for the role (the
 * provider's function) waits for the managed policy too.
 *
 * The providers are stack-wide singletons, so this works on the whole stack (once per stack,
 * however many tiers call it). Roles made with `iam.Role` keep their own mechanism (use
 * `ManagedPolicyRole`).
 */
export function moveProviderInlinePolicies(scope: IConstruct): void {
  const stack = Stack.of(scope);
  if (stacksDone.has(stack)) return;
  stacksDone.add(stack);
  Aspects.of(stack).add(new ProviderInlinePoliciesToManaged(), { priority: AspectPriority.MUTATING });
}

class ProviderInlinePoliciesToManaged implements IAspect {
  public visit(node: IConstruct): void {
    if (!(node instanceof CustomResourceProviderBase)) return;
    const role = node.node.tryFindChild('Role');
    if (!(role instanceof CfnResource) || role.cfnResourceType !== 'AWS::IAM::Role') return;
    // The provider's function runs with the role, so it must also wait for the managed policy.
    const functions = node.node.children.filter((c): c is CfnResource =>
      CfnResource.isCfnResource(c) && c.cfnResourceType === 'AWS::Lambda::Function');
    moveInlinePolicies(role, functions);
  }
}

/** Rewrites one role's inline `Policies` into customer managed policies attached to it. */
function moveInlinePolicies(role: CfnResource, functions: CfnResource[]): void {
  const stack = Stack.of(role);
  // The rendered resource, overrides included; the statements are final here (providers receive
  // them in constructors, before aspects run).
  const rendered = stack.resolve(role._toCloudFormation()) as { Resources: Record<string, { Properties?: { Policies?: InlinePolicy[] } }> };
  const policies = Object.values(rendered.Resources)[0]?.Properties?.Policies ?? [];
  if (policies.length === 0) return;
  const scope = role.node.scope!;
  // (Newer aws-cdk-lib releases count more constructs as CfnResource; only those that can tell
  // their dependencies are asked.)
  const dependents = scope.node.findAll().filter((c): c is CfnResource =>
    c instanceof CfnResource && c !== role && typeof c.obtainResourceDependencies === 'function'
    && c.obtainResourceDependencies().includes(role));
  for (const fn of functions) if (!dependents.includes(fn)) dependents.push(fn);
  for (const inline of policies) {
    const managed = new iam.CfnManagedPolicy(scope, `${role.node.id}Policy${inline.PolicyName}`, {
      description: `Inline policy '${inline.PolicyName}' of ${role.node.path}, as a customer managed policy`,
      policyDocument: inline.PolicyDocument,
      roles: [role.ref],
    });
    dependents.forEach((d) => d.addDependency(managed));
  }
  role.addPropertyDeletionOverride('Policies');
}
