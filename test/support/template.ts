import './v8-flags';
import { Template } from 'aws-cdk-lib/assertions';

/** A resource of a synthesized template with its logical ID. */
export interface TemplateResource {
  readonly id: string;
  readonly type: string;
  readonly properties: any;
  readonly resource: any;
}

/** Every resource of a type, in template order. */
export function resourcesOfType(template: Template, type: string): TemplateResource[] {
  return Object.entries<any>(template.findResources(type)).map(([id, resource]) => ({
    id,
    type,
    properties: resource.Properties ?? {},
    resource,
  }));
}

/** The only resource of a type whose logical ID starts with a prefix (throws unless exactly one). */
export function onlyResource(template: Template, type: string, idPrefix = ''): TemplateResource {
  const found = resourcesOfType(template, type).filter((r) => r.id.startsWith(idPrefix));
  if (found.length !== 1) {
    throw new Error(`expected one ${type} with a logical ID starting with '${idPrefix}', found ${found.map((r) => r.id).join(', ') || 'none'}`);
  }
  return found[0];
}

/** The logical ID in `{ Ref: id }` or `{ 'Fn::GetAtt': [id, attr] }`, else undefined. */
export function refId(value: any): string | undefined {
  if (value && typeof value === 'object') {
    if (typeof value.Ref === 'string') return value.Ref;
    if (Array.isArray(value['Fn::GetAtt'])) return value['Fn::GetAtt'][0];
  }
  return undefined;
}

/**
 * Flattens `Fn::Join` into text and computes `Fn::Base64` (so a file the boot script writes from a
 * token-bearing value decodes to its text); every other intrinsic is rendered by `renderToken` (by
 * default as `<<{json}>>`).
 */
export function flatten(value: any, renderToken: (token: any) => string = (t) => `<<${JSON.stringify(t)}>>`): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object') {
    if ('Fn::Base64' in value) return Buffer.from(flatten(value['Fn::Base64'], renderToken), 'utf8').toString('base64');
    if ('Fn::Join' in value) {
      const [separator, parts] = value['Fn::Join'];
      return (parts as any[]).map((p) => flatten(p, renderToken)).join(separator);
    }
  }
  return renderToken(value);
}

/** The user data of a launch template as text (the script itself, not its base64 encoding). */
export function launchTemplateUserData(template: Template, launchTemplateId: string, renderToken?: (token: any) => string): string {
  const lt = template.toJSON().Resources[launchTemplateId];
  if (!lt) throw new Error(`no resource ${launchTemplateId}`);
  const userData = lt.Properties.LaunchTemplateData.UserData;
  return flatten(userData['Fn::Base64'] ?? userData, renderToken);
}

/**
 * The script with every token argument (`"$(printf '%s' BASE64 | base64 -d)"`, see shellArg) shown as
 * the single-quoted word it stands for, so assertions can read it.
 */
export function decodeShellArgs(script: string): string {
  return script.replace(/"\$\(printf '%s' ([A-Za-z0-9+/=]*) \| base64 -d\)"/g,
    (_, b64: string) => `'${Buffer.from(b64, 'base64').toString('utf8')}'`);
}

/** Every file a boot script writes (`printf '%s' BASE64 | base64 -d > 'PATH'`), decoded, by path. */
export function bootFiles(script: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const line of script.split('\n')) {
    const m = /^printf '%s' ([A-Za-z0-9+/=]*) \| base64 -d > '([^']+)'$/.exec(line);
    if (m) files.set(m[2], Buffer.from(m[1], 'base64').toString('utf8'));
  }
  return files;
}

/** The content of the file a boot script writes at `path` (throws when it writes none). */
export function bootFile(script: string, path: string): string {
  const content = bootFiles(script).get(path);
  if (content === undefined) throw new Error(`the boot script writes no file ${path}`);
  return content;
}

/** A security group rule, normalized. `peer` is `sg:<logicalId>`, `cidr:<cidr>`, `prefixList:<...>` or JSON. */
export interface Rule {
  readonly peer: string;
  readonly protocol: string;
  readonly fromPort: any;
  readonly toPort: any;
}

function peerOf(rule: any, direction: 'ingress' | 'egress'): string {
  if (rule.CidrIp !== undefined) return `cidr:${rule.CidrIp}`;
  if (rule.CidrIpv6 !== undefined) return `cidr:${rule.CidrIpv6}`;
  const sg = direction === 'ingress' ? rule.SourceSecurityGroupId : rule.DestinationSecurityGroupId;
  if (sg !== undefined) return `sg:${refId(sg) ?? JSON.stringify(sg)}`;
  const pl = direction === 'ingress' ? rule.SourcePrefixListId : rule.DestinationPrefixListId;
  if (pl !== undefined) return `prefixList:${JSON.stringify(pl)}`;
  return JSON.stringify(rule);
}

function rules(template: Template, sgId: string, direction: 'ingress' | 'egress'): Rule[] {
  const sg = template.toJSON().Resources[sgId];
  if (!sg || sg.Type !== 'AWS::EC2::SecurityGroup') throw new Error(`${sgId} is not a security group`);
  const inlineKey = direction === 'ingress' ? 'SecurityGroupIngress' : 'SecurityGroupEgress';
  const inline: any[] = sg.Properties[inlineKey] ?? [];
  const standalone = resourcesOfType(template, direction === 'ingress' ? 'AWS::EC2::SecurityGroupIngress' : 'AWS::EC2::SecurityGroupEgress')
    .filter((r) => refId(r.properties.GroupId) === sgId)
    .map((r) => r.properties);
  return [...inline, ...standalone].map((r) => ({
    peer: peerOf(r, direction),
    protocol: String(r.IpProtocol),
    fromPort: r.FromPort,
    toPort: r.ToPort,
  }));
}

/** Every ingress rule of a security group: inline ones and `AWS::EC2::SecurityGroupIngress` resources. */
export function ingressRules(template: Template, sgId: string): Rule[] {
  return rules(template, sgId, 'ingress');
}

/** Every egress rule of a security group. */
export function egressRules(template: Template, sgId: string): Rule[] {
  return rules(template, sgId, 'egress');
}

/** A policy statement with its actions and resources as arrays. */
export interface Statement {
  readonly effect: string;
  readonly actions: string[];
  readonly resources: any[];
  readonly raw: any;
}

function normalize(statement: any): Statement {
  const list = (v: any) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return { effect: statement.Effect, actions: list(statement.Action), resources: list(statement.Resource), raw: statement };
}

/**
 * Every statement granted to a role: inline `Policies`, `AWS::IAM::Policy` and
 * `AWS::IAM::ManagedPolicy` resources attached to it.
 */
export function roleStatements(template: Template, roleId: string): Statement[] {
  const resources = template.toJSON().Resources;
  const role = resources[roleId];
  if (!role || role.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is not a role`);
  const statements: any[] = [];
  for (const p of role.Properties.Policies ?? []) statements.push(...p.PolicyDocument.Statement);
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const p of resourcesOfType(template, type)) {
      if ((p.properties.Roles ?? []).some((r: any) => refId(r) === roleId)) statements.push(...p.properties.PolicyDocument.Statement);
    }
  }
  for (const arn of role.Properties.ManagedPolicyArns ?? []) {
    const id = refId(arn);
    if (id && resources[id]?.Type === 'AWS::IAM::ManagedPolicy') statements.push(...resources[id].Properties.PolicyDocument.Statement);
  }
  return statements.map(normalize);
}

/** Every identity-based statement in the template (policies and managed policies). */
export function allIdentityStatements(template: Template): Statement[] {
  const statements: any[] = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const p of resourcesOfType(template, type)) statements.push(...p.properties.PolicyDocument.Statement);
  }
  for (const r of resourcesOfType(template, 'AWS::IAM::Role')) {
    for (const p of r.properties.Policies ?? []) statements.push(...p.PolicyDocument.Statement);
  }
  return statements.map(normalize);
}

/**
 * The tags of a resource's properties, whatever their shape: `Tags` as a list of `{ Key, Value }`
 * (also with `PropagateAtLaunch`), `Tags` as a map (SAM, SSM), `<Name>Tags` maps (AWS Backup) or
 * launch template `TagSpecifications`.
 */
export function tagsOf(properties: any): Record<string, string> {
  const result: Record<string, string> = {};
  const add = (tags: any) => {
    if (Array.isArray(tags)) {
      for (const t of tags) if (t && typeof t.Key === 'string') result[t.Key] = t.Value;
    } else if (tags && typeof tags === 'object') {
      Object.assign(result, tags);
    }
  };
  for (const [name, value] of Object.entries<any>(properties ?? {})) {
    if (name === 'Tags' || /^[A-Z][A-Za-z]*Tags$/.test(name)) add(value);
  }
  for (const spec of properties?.TagSpecifications ?? []) add(spec.Tags);
  return result;
}

/** A subnet of a VPC built by aws-cdk-lib, with its route table's routes. */
export interface SubnetInfo {
  readonly id: string;
  /** Subnet group name (`aws-cdk:subnet-name`). */
  readonly group: string;
  /** `Public`, `Private` or `Isolated` (`aws-cdk:subnet-type`). */
  readonly type: string;
  /** The AZ name (a token such as `Fn::Select` in an environment-agnostic stack). */
  readonly az: any;
  readonly cidr: string;
  readonly mapPublicIpOnLaunch: boolean | undefined;
  readonly routeTableId: string;
  /** The routes of the subnet's route table. */
  readonly routes: any[];
}

/** Every subnet of the template, ordered by group and AZ. */
export function subnetsOf(template: Template): SubnetInfo[] {
  const associations = resourcesOfType(template, 'AWS::EC2::SubnetRouteTableAssociation');
  const routes = resourcesOfType(template, 'AWS::EC2::Route');
  return resourcesOfType(template, 'AWS::EC2::Subnet').map((s) => {
    const tags = tagsOf(s.properties);
    const association = associations.filter((a) => refId(a.properties.SubnetId) === s.id);
    if (association.length !== 1) throw new Error(`subnet ${s.id} has ${association.length} route table associations`);
    const routeTableId = refId(association[0].properties.RouteTableId)!;
    return {
      id: s.id,
      group: tags['aws-cdk:subnet-name'],
      type: tags['aws-cdk:subnet-type'],
      az: s.properties.AvailabilityZone,
      cidr: s.properties.CidrBlock,
      mapPublicIpOnLaunch: s.properties.MapPublicIpOnLaunch,
      routeTableId,
      routes: routes.filter((r) => refId(r.properties.RouteTableId) === routeTableId).map((r) => r.properties),
    };
  }).sort((a, b) => a.group.localeCompare(b.group) || JSON.stringify(a.az).localeCompare(JSON.stringify(b.az)));
}
