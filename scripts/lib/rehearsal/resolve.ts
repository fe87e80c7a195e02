import { DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { Clients } from '../aws';
import { stackResources } from '../stack';

/**
 * The values CloudFormation puts in place of a template's intrinsics when it deploys it: `refs` by
 * logical ID or pseudo parameter (`AWS::Region`), `getAtts` by `LogicalId.Attribute`.
 */
export interface TokenValues {
  readonly refs: Record<string, string>;
  readonly getAtts: Record<string, string>;
}

/**
 * Resolves a template value to text the way CloudFormation does: Ref, Fn::GetAtt, Fn::Join,
 * Fn::Sub, Fn::Select, Fn::Split and Fn::Base64. Any other intrinsic, or a value not in `values`,
 * is an error that names it (a rehearsal must never run a script with a guessed value).
 */
export function resolveIntrinsics(node: any, values: TokenValues): any {
  if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') return node;
  if (Array.isArray(node)) return node.map((n) => resolveIntrinsics(n, values));
  if (!node || typeof node !== 'object') throw new Error(`cannot resolve ${JSON.stringify(node)}`);
  const keys = Object.keys(node);
  const text = (n: any) => String(resolveIntrinsics(n, values));
  if (keys.length === 1) {
    const [key] = keys;
    const arg = node[key];
    switch (key) {
      case 'Ref': {
        const v = values.refs[arg];
        if (v === undefined) throw new Error(`no value for Ref ${arg}`);
        return v;
      }
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? arg : String(arg).split(/\.(.+)/);
        const v = values.getAtts[`${id}.${attr}`];
        if (v === undefined) throw new Error(`no value for Fn::GetAtt ${id}.${attr}`);
        return v;
      }
      case 'Fn::Join':
        return (resolveIntrinsics(arg[1], values) as any[]).map((p) => String(p)).join(arg[0]);
      case 'Fn::Select':
        return (resolveIntrinsics(arg[1], values) as any[])[Number(resolveIntrinsics(arg[0], values))];
      case 'Fn::Split':
        return text(arg[1]).split(arg[0]);
      case 'Fn::Base64':
        return Buffer.from(text(arg), 'utf8').toString('base64');
      case 'Fn::Sub': {
        const [template, vars] = Array.isArray(arg) ? arg : [arg, {}];
        return String(template).replace(/\$\{([^}]+)\}/g, (_, name: string) => {
          if (name.startsWith('!')) return `\${${name.slice(1)}}`;
          if (vars && name in vars) return text(vars[name]);
          if (name.includes('.')) return text({ 'Fn::GetAtt': name.split(/\.(.+)/).slice(0, 2) });
          return text({ Ref: name });
        });
      }
      default:
        if (key.startsWith('Fn::') || key === 'Condition') throw new Error(`the rehearsal does not resolve ${key}: ${JSON.stringify(node)}`);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, resolveIntrinsics(node[k], values)]));
}

/** Every `[logicalId, attribute]` of an Fn::GetAtt (or `${Id.Attr}` of an Fn::Sub) in a value. */
export function getAttsIn(node: any): Array<[string, string]> {
  const found = new Map<string, [string, string]>();
  const walk = (n: any) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    const ga = n['Fn::GetAtt'];
    if (ga) {
      const [id, attr] = Array.isArray(ga) ? ga : String(ga).split(/\.(.+)/);
      found.set(`${id}.${attr}`, [id, attr]);
    }
    const sub = n['Fn::Sub'];
    if (sub) {
      for (const m of String(Array.isArray(sub) ? sub[0] : sub).matchAll(/\$\{([A-Za-z0-9]+)\.([A-Za-z0-9.]+)\}/g)) found.set(`${m[1]}.${m[2]}`, [m[1], m[2]]);
    }
    Object.values(n).forEach(walk);
  };
  walk(node);
  return [...found.values()];
}

/**
 * The token values of a stack as an emulator (or AWS) deployed it: pseudo parameters, every
 * resource's physical ID, and the Fn::GetAtt attributes that `node` (e.g. a launch template's user
 * data) uses, read from the services that own them.
 */
export async function tokenValuesFromStack(
  clients: Clients, stackName: string, stackId: string, node: any, env: { account: string; region: string; partition?: string },
): Promise<TokenValues> {
  const resources = await stackResources(clients.cfn, stackName);
  const refs: Record<string, string> = {
    'AWS::Region': env.region,
    'AWS::AccountId': env.account,
    'AWS::Partition': env.partition ?? 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': stackName,
    'AWS::StackId': stackId,
  };
  for (const [id, r] of resources) refs[id] = r.physicalId;
  const getAtts: Record<string, string> = {};
  for (const [id, attr] of getAttsIn(node)) {
    const r = resources.get(id);
    if (!r) throw new Error(`the stack has no resource ${id} (Fn::GetAtt ${id}.${attr})`);
    getAtts[`${id}.${attr}`] = await attributeOf(clients, r.type, r.physicalId, attr);
  }
  return { refs, getAtts };
}

/** The attributes boot scripts use, read from the service that owns the resource. */
async function attributeOf(c: Clients, type: string, physicalId: string, attr: string): Promise<string> {
  if (type === 'AWS::ElasticLoadBalancingV2::LoadBalancer' && attr === 'DNSName') {
    const r = await c.elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [physicalId] }));
    return r.LoadBalancers![0].DNSName!;
  }
  if (type === 'AWS::RDS::DBInstance' && (attr === 'Endpoint.Address' || attr === 'Endpoint.Port')) {
    const r = await c.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: physicalId }));
    const e = r.DBInstances![0].Endpoint!;
    return attr === 'Endpoint.Address' ? e.Address! : String(e.Port);
  }
  throw new Error(`the rehearsal cannot read ${type} attribute ${attr} yet: add it to attributeOf()`);
}

/** A fleet of a template: its launch template and the Auto Scaling Group that launches it. */
export interface TemplateFleet {
  readonly launchTemplateId: string;
  readonly autoScalingGroupId: string;
}

/** Every fleet (launch template + Auto Scaling Group) of a template. */
export function fleetsOf(template: any): TemplateFleet[] {
  const resources: Record<string, any> = template.Resources ?? {};
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::AutoScaling::AutoScalingGroup')
    .map(([asgId, r]) => {
      // On-demand fleets name it directly; spot fleets in their mixed instances policy.
      const spec = r.Properties?.LaunchTemplate ?? r.Properties?.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
      if (r.Properties?.LaunchTemplate && r.Properties?.MixedInstancesPolicy) {
        throw new Error(`Auto Scaling Group ${asgId} has both LaunchTemplate and MixedInstancesPolicy (CloudFormation refuses that)`);
      }
      const lt = spec?.LaunchTemplateId;
      const launchTemplateId = lt?.Ref;
      if (!launchTemplateId || resources[launchTemplateId]?.Type !== 'AWS::EC2::LaunchTemplate') {
        throw new Error(`Auto Scaling Group ${asgId} does not name a launch template of the template by Ref`);
      }
      return { launchTemplateId, autoScalingGroupId: asgId };
    });
}

/** The user data of a launch template with every intrinsic resolved: the script an instance runs. */
export function resolvedUserData(template: any, launchTemplateId: string, values: TokenValues): string {
  const lt = template.Resources?.[launchTemplateId];
  if (lt?.Type !== 'AWS::EC2::LaunchTemplate') throw new Error(`${launchTemplateId} is not a launch template of the template`);
  const userData = lt.Properties?.LaunchTemplateData?.UserData;
  if (!userData) throw new Error(`${launchTemplateId} has no user data`);
  const encoded = String(resolveIntrinsics(userData, values));
  return Buffer.from(encoded, 'base64').toString('utf8');
}

/** The user data node of a launch template (what `tokenValuesFromStack` needs to know). */
export function userDataNode(template: any, launchTemplateId: string): any {
  return template.Resources?.[launchTemplateId]?.Properties?.LaunchTemplateData?.UserData;
}
