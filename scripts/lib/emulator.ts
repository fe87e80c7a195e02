import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

/**
 * What the local emulator (moto 5.x) cannot deploy as synthesized, and the one function that adapts
 * a template to it. Used for the emulator only: `--real` deployments get the synthesized template
 * unchanged.
 */

/** A resource left out of the emulator's template, and why. */
export interface RemovedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly reason: string;
}

/** The adapted template and a record of every change. */
export interface EmulatorTemplate {
  readonly template: any;
  /** Resources removed from the template. */
  readonly removed: RemovedResource[];
  /** Every other change, one line each. */
  readonly changes: string[];
}

const NEEDS_DOCKER = 'Lambda-backed custom resource: moto runs its handler Lambda in Docker, which is not there, so the resource never '
  + 'answers and the stack stays CREATE_IN_PROGRESS for good';

/**
 * Types whose resources moto accepts and skips (no CloudFormation model) while a Ref or Fn::GetAtt
 * to them resolves to nothing, which breaks the modelled resources that name them: an IAM policy
 * naming the database secret is rejected with "MalformedPolicyDocument: Policy statement must
 * contain resources"; the dashboard's alarm widget (`Fn::GetAtt [<alarm>, Arn]` in its
 * `DashboardBody`) fails CreateStack with "Template error: instance of Fn::GetAtt references
 * undefined resource <alarm>". The references are replaced; the resources stay, for moto to skip.
 */
export const UNMODELLED_REFERENCED_TYPES = [
  'AWS::SecretsManager::Secret',
  'AWS::SecretsManager::SecretTargetAttachment',
  'AWS::SecretsManager::RotationSchedule',
  'AWS::SecretsManager::ResourcePolicy',
  'AWS::CloudWatch::Alarm',
  // The certificates of a web tier with a domain (and of the internal load balancer and
  // CloudFront): the HTTPS listener's `Certificates: [{ CertificateArn: { Ref } }]` reaches moto
  // as `[{}]`, and CreateStack fails with a server error (KeyError 'CertificateArn'), which the
  // SDK's retry reports as "Stack ... already exists". moto has no ACM model in CloudFormation
  // (and a DNS-validated certificate would never be issued there anyway).
  'AWS::CertificateManager::Certificate',
  // CloudFront in front of the web tier (`edge`): moto has no CloudFront model in CloudFormation;
  // the alias record's `Fn::GetAtt [<distribution>, DomainName]` must be a DNS name.
  'AWS::CloudFront::Distribution',
];

/** Placeholders that must be a DNS name rather than an ARN, by type. */
const DNS_NAME_PLACEHOLDERS = new Set(['AWS::CloudFront::Distribution']);

const PREFIX_LIST_INGRESS = 'ingress rule from a managed prefix list: moto\'s CloudFormation model of AWS::EC2::SecurityGroupIngress '
  + 'accepts only a CIDR or a source group and fails CreateStack with a server error (AssertionError) on SourcePrefixListId';

/** Types removed with a custom resource when nothing else uses them: its provider. */
const PROVIDER_TYPES = new Set(['AWS::Lambda::Function', 'AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy',
  'AWS::Lambda::Permission', 'AWS::Lambda::LayerVersion', 'AWS::Logs::LogGroup']);

/**
 * Adapts a synthesized template to moto. Everything it changes, and why (each found by deploying
 * the examples to moto 5.2.1; anything moto merely skips without harm, such as
 * AWS::Serverless::Application, AWS::WAFv2::*, AWS::Backup::*, AWS::S3::BucketPolicy,
 * AWS::RDS::OptionGroup, AWS::EC2::SecurityGroupEgress or AWS::AutoScaling::ScalingPolicy, is left
 * in, and `skippedByEmulator()` lists it after the deployment):
 *
 * 1. Removes the `BootstrapVersion` parameter and the `Rules` section: they read and check the CDK
 *    bootstrap stack's SSM parameter, which the emulator does not have.
 * 2. Removes every Lambda-backed custom resource (`Custom::*`, `AWS::CloudFormation::CustomResource`;
 *    in this library `Custom::VpcRestrictDefaultSG`, which empties the VPC's default security group):
 *    moto creates the provider Lambda, then invokes it in Docker, which is not there, so the
 *    resource never answers and the stack stays CREATE_IN_PROGRESS for good. Also removes what
 *    existed only for them: the provider's Lambda function and its role (and policies).
 *    Nothing in the kept resources refers to them.
 * 3. Replaces every Ref / Fn::GetAtt / Fn::Sub reference to a resource of `UNMODELLED_REFERENCED_TYPES`
 *    (the database's Secrets Manager secret and its attachment, the CloudWatch alarms) with a
 *    placeholder ARN `arn:aws:<service>:<region>:<account>:emulator-unmodelled:<LogicalId>`: in
 *    policies that name the secret (the app-user and rotation functions'), in the
 *    `DatabaseSecretArn` output, in the database's master user name and password (dynamic
 *    references that moto stores as plain strings), and in the dashboard's alarm widget (moto has
 *    no CloudWatch alarm model: the dashboard is created with placeholder alarm ARNs, which the
 *    emulator never reads). The resources themselves stay; moto skips them. (The API itself never
 *    sees the secret: it connects as the app user with IAM database authentication.)
 *    The same for the ACM certificates of a web tier with a domain (the HTTPS listeners get the
 *    placeholder `arn:aws:certificatemanager:...:emulator-unmodelled:<LogicalId>` as their
 *    certificate: moto has no ACM model in CloudFormation, so the listener's certificate list
 *    reaches it empty and CreateStack fails with a server error, KeyError 'CertificateArn'; a
 *    DNS-validated certificate would never be issued in the emulator anyway) and for the CloudFront
 *    distribution of `edge` (no CloudFront model: its alias record gets the placeholder DNS name
 *    `<logicalid>.emulator-unmodelled.cloudfront.net`). The origin header's value, a dynamic
 *    reference to the edge's origin secret, reaches moto as a plain string, like the database's.
 * 4. Works around moto bugs and gaps, keeping the intent:
 *    - `AWS::KMS::Key` `Tags` are given as `TagKey`/`TagValue`: moto's KMS model reads those keys
 *      and fails with a server error (KeyError 'TagKey') on CloudFormation's `Key`/`Value`;
 *    - `AWS::RDS::DBInstance` `DBParameterGroupName` is dropped: moto resolves the Ref to the group
 *      object instead of its name and fails with a server error ('DBParameterGroup' object has no
 *      attribute 'startswith'); the parameter group itself is still created;
 *    - `AWS::IAM::ManagedPolicy` becomes an `AWS::IAM::Policy` with the same document and roles
 *      (`PolicyName` = its logical ID), when nothing refers to its ARN: moto attaches a customer
 *      managed policy but never detaches it, so its roles cannot be deleted and DeleteStack fails
 *      ("DeleteConflict: Cannot delete entity, must detach all policies first");
 *    - `AWS::EC2::VPC` gets `DeletionPolicy: Retain`: moto's CloudFormation cannot delete route
 *      tables, routes, NAT and internet gateways or VPC endpoints (no delete in their models), so
 *      deleting the VPC fails with DependencyViolation and DeleteStack ends DELETE_FAILED. Retained,
 *      the VPC and those leftovers stay in the emulator, which is thrown away afterwards.
 *    - `Fn::GetAtt [<database>, DbiResourceId]` (the `rds-db:connect` grant's ARN, for IAM database
 *      authentication) becomes the placeholder `db-EMULATORPLACEHOLDER`: moto's DBInstance model
 *      answers only `Endpoint.Address` and `Endpoint.Port`, and CreateStack fails with "resource
 *      ... does not support attribute type DbiResourceId in Fn::GetAtt". (Added for the boot
 *      rehearsal, scripts/lib/rehearsal.)
 *    - `Fn::GetAtt [<target group>, TargetGroupFullName]` and `Fn::GetAtt [<load balancer>,
 *      LoadBalancerFullName]` (the CloudWatch metric dimensions of the dashboard and alarms) become
 *      the same value cut from the resource's ARN (its Ref): `Fn::Select [5, Fn::Split [":", Ref]]`
 *      (`targetgroup/<name>/<id>`) and `Fn::Select [1, Fn::Split [":loadbalancer/", Ref]]`
 *      (`app/<name>/<id>`), which is how AWS defines both. moto's target group model has no
 *      attributes at all (CreateStack fails with a server error, AttributeError 'FakeTargetGroup'
 *      object has no attribute 'get_cfn_attribute', and the SDK's retry then reports "Stack ...
 *      already exists"), and its load balancer model does not implement LoadBalancerFullName.
 *    - An `AWS::EC2::SecurityGroupIngress` with `SourcePrefixListId` (the web load balancer's rule
 *      admitting CloudFront's origin-facing prefix list, with `edge`) is removed: moto's
 *      CloudFormation model of the type asserts a CIDR or a source group and CreateStack fails
 *      with a server error (AssertionError). scripts/deploy-test.ts checks that rule in the
 *      template instead, labelled so, and checks that the load balancer admits nothing else.
 *    - A listener rule's `http-header` condition value that is a dynamic reference to a secret
 *      (the edge's origin header, `{{resolve:secretsmanager:<secret>:SecretString:::}}`) becomes
 *      `emulator-secret-<LogicalId>`: moto resolves no dynamic references, and the reference with
 *      rule 3's placeholder ARN is longer than the 128 characters moto (like AWS) allows for a
 *      header value ("The 'http-header' value is too long; the limit is '128'"). The rule keeps
 *      its header name, priority and action.
 */
export function adaptTemplateForEmulator(original: any, opts: { account?: string; region?: string } = {}): EmulatorTemplate {
  const account = opts.account ?? '123456789012';
  const region = opts.region ?? 'us-east-1';
  const t = JSON.parse(JSON.stringify(original));
  const removed: RemovedResource[] = [];
  const changes: string[] = [];
  const resources: Record<string, any> = t.Resources ?? {};

  // 1
  if (t.Parameters?.BootstrapVersion) {
    delete t.Parameters.BootstrapVersion;
    changes.push('removed the BootstrapVersion parameter');
  }
  if (t.Rules) {
    delete t.Rules;
    changes.push('removed the Rules section (CDK bootstrap check)');
  }

  // 2: custom resources, then their providers when nothing kept uses them
  const gone = new Set<string>();
  for (const [id, r] of Object.entries<any>(resources)) {
    if (String(r.Type).startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource') {
      gone.add(id);
      removed.push({ logicalId: id, type: r.Type, reason: NEEDS_DOCKER });
    }
  }
  const outputs = JSON.stringify(t.Outputs ?? {});
  for (let grew = true; grew;) {
    grew = false;
    for (const [id, r] of Object.entries<any>(resources)) {
      if (gone.has(id) || !PROVIDER_TYPES.has(r.Type) || outputs.includes(`"${id}"`)) continue;
      const servesRemoved = [...gone].some((g) => refersTo(resources[g], id));
      // A policy attached to a role uses the role: it does not keep the role.
      const keptUsers = Object.keys(resources).filter((o) => o !== id && !gone.has(o) && refersTo(resources[o], id)
        && !(/^AWS::IAM::(Managed)?Policy$/.test(resources[o].Type) && attachesOnly(resources[o], id)));
      const policyOfRemovedRoles = /^AWS::IAM::(Managed)?Policy$/.test(r.Type)
        && (r.Properties?.Roles ?? []).length > 0
        && (r.Properties.Roles as any[]).every((x) => x?.Ref && gone.has(x.Ref));
      if (policyOfRemovedRoles || (servesRemoved && keptUsers.length === 0)) {
        gone.add(id);
        removed.push({ logicalId: id, type: r.Type, reason: 'existed only for a removed custom resource' });
        grew = true;
      }
    }
  }
  for (const id of gone) delete resources[id];
  for (const r of Object.values<any>(resources)) {
    if (!r.DependsOn) continue;
    const deps = (Array.isArray(r.DependsOn) ? r.DependsOn : [r.DependsOn]).filter((d: string) => !gone.has(d));
    if (deps.length > 0) r.DependsOn = deps;
    else delete r.DependsOn;
  }
  const dangling = Object.keys(resources).filter((id) => [...gone].some((g) => refersTo(resources[id], g)));
  if (dangling.length > 0) throw new Error(`resources refer to removed custom resources: ${dangling.join(', ')}`);

  // 3: references to resources moto skips
  const unmodelled = new Set(Object.keys(resources).filter((id) => UNMODELLED_REFERENCED_TYPES.includes(resources[id].Type)));
  const placeholder = (id: string) => (DNS_NAME_PLACEHOLDERS.has(resources[id].Type)
    ? `${id.toLowerCase()}.emulator-unmodelled.cloudfront.net`
    : `arn:aws:${String(resources[id].Type).split('::')[1].toLowerCase()}:${region}:${account}:emulator-unmodelled:${id}`);
  let replaced = 0;
  const rewrite = (node: any): any => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!node || typeof node !== 'object') return node;
    const keys = Object.keys(node);
    if (keys.length === 1 && keys[0] === 'Ref' && unmodelled.has(node.Ref)) {
      replaced++;
      return placeholder(node.Ref);
    }
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const ga = node['Fn::GetAtt'];
      const target = Array.isArray(ga) ? ga[0] : String(ga).split('.')[0];
      if (unmodelled.has(target)) {
        replaced++;
        return placeholder(target);
      }
    }
    if (keys.length === 1 && keys[0] === 'Fn::Sub') {
      const sub = node['Fn::Sub'];
      const [text, vars] = Array.isArray(sub) ? sub : [sub, undefined];
      const newText = String(text).replace(/\$\{([A-Za-z0-9]+)(\.[A-Za-z0-9.]+)?\}/g, (m, id) => {
        if (!unmodelled.has(id) || (vars && id in vars)) return m;
        replaced++;
        return placeholder(id);
      });
      return { 'Fn::Sub': vars ? [newText, rewrite(vars)] : newText };
    }
    return Object.fromEntries(keys.map((k) => [k, rewrite(node[k])]));
  };
  for (const [id, r] of Object.entries<any>(resources)) {
    if (!unmodelled.has(id)) resources[id] = rewrite(r);
  }
  if (t.Outputs) t.Outputs = rewrite(t.Outputs);
  if (replaced > 0) changes.push(`replaced ${replaced} references to Secrets Manager resources, CloudWatch alarms, ACM certificates and CloudFront distributions (which moto skips) with placeholders`);

  // 4: moto bugs
  for (const [id, r] of Object.entries<any>(resources)) {
    if (r.Type !== 'AWS::EC2::SecurityGroupIngress' || r.Properties?.SourcePrefixListId === undefined) continue;
    if (Object.keys(resources).some((o) => o !== id && refersTo(resources[o], id))) continue;
    delete resources[id];
    removed.push({ logicalId: id, type: r.Type, reason: PREFIX_LIST_INGRESS });
  }
  const headerValues = replaceSecretHeaderValues(resources);
  if (headerValues > 0) changes.push(`replaced ${headerValues} listener rule header values (dynamic references to placeholder secrets) with stand-in strings`);
  for (const [id, r] of Object.entries<any>(resources)) {
    if (r.Type === 'AWS::KMS::Key' && Array.isArray(r.Properties?.Tags)) {
      r.Properties.Tags = r.Properties.Tags.map((x: any) => ({ TagKey: x.Key, TagValue: x.Value }));
      changes.push(`${id}: KMS key tags given as TagKey/TagValue`);
    }
    if (r.Type === 'AWS::RDS::DBInstance' && r.Properties?.DBParameterGroupName) {
      delete r.Properties.DBParameterGroupName;
      changes.push(`${id}: DBParameterGroupName dropped`);
    }
    if (r.Type === 'AWS::IAM::ManagedPolicy' && !outputs.includes(`"${id}"`)
      && !Object.keys(resources).some((o) => o !== id && refersTo({ Properties: resources[o].Properties }, id))) {
      const { PolicyDocument, Roles, Groups, Users } = r.Properties ?? {};
      r.Type = 'AWS::IAM::Policy';
      r.Properties = { PolicyName: id, PolicyDocument, ...(Roles ? { Roles } : {}), ...(Groups ? { Groups } : {}), ...(Users ? { Users } : {}) };
      changes.push(`${id}: customer managed policy given as an inline AWS::IAM::Policy`);
    }
    if (r.Type === 'AWS::EC2::VPC' && r.DeletionPolicy !== 'Retain') {
      r.DeletionPolicy = 'Retain';
      changes.push(`${id}: VPC retained on stack deletion`);
    }
  }
  const databases = new Set(Object.keys(resources).filter((id) => resources[id].Type === 'AWS::RDS::DBInstance'));
  let resourceIds = 0;
  const replaceResourceId = (node: any): any => {
    if (Array.isArray(node)) return node.map(replaceResourceId);
    if (!node || typeof node !== 'object') return node;
    const ga = node['Fn::GetAtt'];
    if (Object.keys(node).length === 1 && Array.isArray(ga) && databases.has(ga[0]) && ga[1] === 'DbiResourceId') {
      resourceIds++;
      return 'db-EMULATORPLACEHOLDER';
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, replaceResourceId(v)]));
  };
  for (const id of Object.keys(resources)) resources[id] = replaceResourceId(resources[id]);
  if (resourceIds > 0) changes.push(`replaced ${resourceIds} Fn::GetAtt DbiResourceId of the database (not modelled by moto) with a placeholder`);
  const fullNames = replaceFullNames(resources);
  if (fullNames > 0) changes.push(`replaced ${fullNames} Fn::GetAtt TargetGroupFullName/LoadBalancerFullName (not modelled by moto) with the same value cut from the ARN`);
  return { template: t, removed, changes };
}

/**
 * Replaces (in place) every listener rule `http-header` value that is a dynamic reference to a
 * placeholder secret (rule 3) with `emulator-secret-<LogicalId>`; returns how many.
 */
function replaceSecretHeaderValues(resources: Record<string, any>): number {
  let count = 0;
  for (const r of Object.values<any>(resources)) {
    if (r.Type !== 'AWS::ElasticLoadBalancingV2::ListenerRule') continue;
    for (const condition of r.Properties?.Conditions ?? []) {
      const config = condition.HttpHeaderConfig;
      if (!Array.isArray(config?.Values)) continue;
      config.Values = config.Values.map((v: any) => {
        const join = v?.['Fn::Join'];
        const text = Array.isArray(join) && join[1].every((p: any) => typeof p === 'string') ? join[1].join(join[0]) : v;
        const m = typeof text === 'string' ? /^\{\{resolve:secretsmanager:arn:[^}]*:emulator-unmodelled:([A-Za-z0-9]+):/.exec(text) : null;
        if (!m) return v;
        count++;
        return `emulator-secret-${m[1]}`;
      });
    }
  }
  return count;
}

/** The full-name attributes moto does not answer, and how each is cut from the resource's ARN. */
const FULL_NAMES: Record<string, { attribute: string; cut: (ref: any) => any }> = {
  'AWS::ElasticLoadBalancingV2::TargetGroup': { attribute: 'TargetGroupFullName', cut: (ref) => ({ 'Fn::Select': [5, { 'Fn::Split': [':', ref] }] }) },
  'AWS::ElasticLoadBalancingV2::LoadBalancer': { attribute: 'LoadBalancerFullName', cut: (ref) => ({ 'Fn::Select': [1, { 'Fn::Split': [':loadbalancer/', ref] }] }) },
};

/** Replaces (in place) every Fn::GetAtt of a `FULL_NAMES` attribute; returns how many. */
function replaceFullNames(resources: Record<string, any>): number {
  let count = 0;
  const replace = (node: any): any => {
    if (Array.isArray(node)) return node.map(replace);
    if (!node || typeof node !== 'object') return node;
    const ga = node['Fn::GetAtt'];
    if (Object.keys(node).length === 1 && Array.isArray(ga)) {
      const full = FULL_NAMES[resources[ga[0]]?.Type];
      if (full && ga[1] === full.attribute) {
        count++;
        return full.cut({ Ref: ga[0] });
      }
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, replace(v)]));
  };
  for (const id of Object.keys(resources)) resources[id] = replace(resources[id]);
  return count;
}

/** Whether a resource mentions `id` in a Ref, Fn::GetAtt, Fn::Sub or DependsOn. */
function refersTo(resource: any, id: string): boolean {
  const deps = resource.DependsOn ? (Array.isArray(resource.DependsOn) ? resource.DependsOn : [resource.DependsOn]) : [];
  if (deps.includes(id)) return true;
  let found = false;
  const walk = (n: any) => {
    if (found || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      n.forEach(walk);
      return;
    }
    if (n.Ref === id) found = true;
    const ga = n['Fn::GetAtt'];
    if (ga && (Array.isArray(ga) ? ga[0] === id : String(ga).split('.')[0] === id)) found = true;
    const sub = n['Fn::Sub'];
    if (sub && new RegExp(`\\$\\{${id}[.}]`).test(String(Array.isArray(sub) ? sub[0] : sub))) found = true;
    Object.values(n).forEach(walk);
  };
  walk(resource.Properties ?? {});
  return found;
}

/** Whether an IAM policy mentions `roleId` only in its Roles list. */
function attachesOnly(policy: any, roleId: string): boolean {
  const { Roles, ...rest } = policy.Properties ?? {};
  return (Roles ?? []).some((r: any) => r?.Ref === roleId) && !refersTo({ Properties: rest }, roleId);
}

/** Resources of a template that the stack does not list: moto accepted and skipped them. */
export function skippedByEmulator(template: any, deployed: Set<string>): { logicalId: string; type: string }[] {
  return Object.entries<any>(template.Resources ?? {})
    .filter(([id]) => !deployed.has(id))
    .map(([logicalId, r]) => ({ logicalId, type: r.Type }));
}

/**
 * Makes sure the emulator's SSM has every public parameter the template reads (the Amazon Linux
 * 2023 AMI, `/aws/service/ami-amazon-linux-latest/...`). moto ships the real ones; another emulator
 * may not, so a missing one is created with an image the emulator has.
 */
export async function ensureSsmParameters(ssm: SSMClient, ec2: EC2Client, template: any): Promise<string[]> {
  const names = Object.values<any>(template.Parameters ?? {})
    .filter((p) => String(p.Type).startsWith('AWS::SSM::Parameter::Value') && typeof p.Default === 'string')
    .map((p) => p.Default as string);
  const created: string[] = [];
  for (const name of names) {
    try {
      await ssm.send(new GetParameterCommand({ Name: name }));
      continue;
    } catch (e) {
      if ((e as Error).name !== 'ParameterNotFound') throw e;
    }
    const images = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] })).catch(() => ({ Images: [] as any[] }));
    const imageId = images.Images?.[0]?.ImageId ?? 'ami-0123456789abcdef0';
    try {
      await ssm.send(new PutParameterCommand({ Name: name, Value: imageId, Type: 'String', DataType: 'aws:ec2:image', Overwrite: true }));
      created.push(`${name} = ${imageId}`);
    } catch (e) {
      throw new Error(`the emulator has no SSM parameter ${name} and refuses to create it (${(e as Error).name}: ${(e as Error).message})`);
    }
  }
  return created;
}
