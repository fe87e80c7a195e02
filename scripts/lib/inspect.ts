import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplateVersionsCommand, DescribeRouteTablesCommand, DescribeSubnetsCommand, DescribeVpcsCommand, Route } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { Clients } from './aws';
import { deployedEdges, Edge } from './sg-graph';
import { stackResources } from './stack';

/** A deployed subnet and the routes of its route table. */
export interface DeployedSubnet {
  readonly id: string;
  /** `Public`, `Web`, `App` or `Data` (the `aws-cdk:subnet-name` tag). */
  readonly tier: string;
  readonly az: string;
  readonly cidr: string;
  readonly routes: Route[];
  /**
   * Where the subnet's route table association was read: `api` (DescribeRouteTables), or
   * `template` (the stack's AWS::EC2::SubnetRouteTableAssociation, mapped to physical IDs) when the
   * API shows none: moto records CloudFormation's associations apart from the route tables and
   * never reports them.
   */
  readonly associationFrom: 'api' | 'template' | 'main';
}

/** A deployed Auto Scaling Group with its launch template version and target health. */
export interface DeployedFleet {
  /** `web` or `app`. */
  readonly tier: string;
  readonly logicalId: string;
  readonly name: string;
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredCapacity: number;
  readonly subnetIds: string[];
  readonly tags: Record<string, string>;
  readonly instances: { id: string; az: string; lifecycle: string }[];
  /** Target health of the group's instances, per target group ARN. */
  readonly targetHealth: Record<string, Record<string, string>>;
  readonly launchTemplate?: { id: string; version: string; instanceType?: string; httpTokens?: string; hopLimit?: number };
}

export interface DeployedDatabase {
  readonly identifier: string;
  readonly address?: string;
  readonly port?: number;
  readonly engine?: string;
  readonly engineVersion?: string;
  readonly instanceClass?: string;
  readonly publiclyAccessible?: boolean;
  readonly storageEncrypted?: boolean;
  readonly kmsKeyId?: string;
  readonly multiAz?: boolean;
  readonly subnetIds: string[];
  readonly subnetGroupName?: string;
}

/** What the stack really has, read back through the service APIs. */
export interface DeployedStack {
  readonly resources: Map<string, { physicalId: string; type: string; status: string }>;
  readonly vpc?: { id: string; cidr: string };
  readonly subnets: DeployedSubnet[];
  readonly fleets: DeployedFleet[];
  readonly database?: DeployedDatabase;
  readonly edges: Edge[];
}

/** Which tier a resource belongs to, from its CDK path (or logical ID): `web`, `app`, or undefined. */
export function tierOf(template: any, logicalId: string): string | undefined {
  const where = `${template.Resources?.[logicalId]?.Metadata?.['aws:cdk:path'] ?? ''} ${logicalId}`;
  if (/\/Web\/|PlatformWeb/.test(where)) return 'web';
  if (/\/App\/|PlatformApp/.test(where)) return 'app';
  return undefined;
}

export async function inspectStack(c: Clients, stackName: string, template: any): Promise<DeployedStack> {
  const resources = await stackResources(c.cfn, stackName);
  const ofType = (type: string) => [...resources.entries()].filter(([, r]) => r.type === type);

  // VPC, subnets and their routes
  const vpcEntry = ofType('AWS::EC2::VPC')[0];
  let vpc: DeployedStack['vpc'];
  const subnets: DeployedSubnet[] = [];
  if (vpcEntry) {
    const v = (await c.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcEntry[1].physicalId] }))).Vpcs![0];
    vpc = { id: v.VpcId!, cidr: v.CidrBlock! };
    const subs = (await c.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.id] }] }))).Subnets ?? [];
    const tables = (await c.ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.id] }] }))).RouteTables ?? [];
    const mainTable = tables.find((t) => (t.Associations ?? []).some((a) => a.Main));
    const physical = (ref: any) => (ref?.Ref ? resources.get(ref.Ref)?.physicalId : undefined);
    const templateAssociations = new Map<string, string>();
    for (const r of Object.values<any>(template.Resources ?? {})) {
      if (r.Type !== 'AWS::EC2::SubnetRouteTableAssociation') continue;
      const subnet = physical(r.Properties?.SubnetId);
      const table = physical(r.Properties?.RouteTableId);
      if (subnet && table) templateAssociations.set(subnet, table);
    }
    for (const s of subs) {
      const apiTable = tables.find((t) => (t.Associations ?? []).some((a) => a.SubnetId === s.SubnetId));
      const templateTable = tables.find((t) => t.RouteTableId === templateAssociations.get(s.SubnetId!));
      const table = apiTable ?? templateTable ?? mainTable;
      subnets.push({
        associationFrom: apiTable ? 'api' : templateTable ? 'template' : 'main',
        id: s.SubnetId!,
        tier: s.Tags?.find((t) => t.Key === 'aws-cdk:subnet-name')?.Value ?? '?',
        az: s.AvailabilityZone!,
        cidr: s.CidrBlock!,
        routes: table?.Routes ?? [],
      });
    }
    subnets.sort((a, b) => a.tier.localeCompare(b.tier) || a.az.localeCompare(b.az));
  }

  // Fleets
  const fleets: DeployedFleet[] = [];
  const asgEntries = ofType('AWS::AutoScaling::AutoScalingGroup');
  if (asgEntries.length > 0) {
    const names = asgEntries.map(([, r]) => r.physicalId);
    const groups = (await c.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: names }))).AutoScalingGroups ?? [];
    for (const [logicalId, r] of asgEntries) {
      const g = groups.find((x) => x.AutoScalingGroupName === r.physicalId);
      if (!g) continue;
      const targetHealth: DeployedFleet['targetHealth'] = {};
      for (const arn of g.TargetGroupARNs ?? []) {
        const th = await c.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
        targetHealth[arn] = Object.fromEntries((th.TargetHealthDescriptions ?? []).map((d) => [d.Target!.Id!, d.TargetHealth?.State ?? 'unknown']));
      }
      let launchTemplate: DeployedFleet['launchTemplate'];
      const lt = g.LaunchTemplate ?? g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
      if (lt?.LaunchTemplateId) {
        const versions = await c.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lt.LaunchTemplateId, Versions: [lt.Version ?? '$Default'] }));
        const data = versions.LaunchTemplateVersions?.[0]?.LaunchTemplateData;
        launchTemplate = {
          id: lt.LaunchTemplateId,
          version: String(versions.LaunchTemplateVersions?.[0]?.VersionNumber ?? lt.Version),
          instanceType: data?.InstanceType,
          httpTokens: data?.MetadataOptions?.HttpTokens,
          hopLimit: data?.MetadataOptions?.HttpPutResponseHopLimit,
        };
      }
      fleets.push({
        tier: tierOf(template, logicalId) ?? logicalId,
        logicalId,
        name: g.AutoScalingGroupName!,
        minSize: g.MinSize!,
        maxSize: g.MaxSize!,
        desiredCapacity: g.DesiredCapacity!,
        subnetIds: (g.VPCZoneIdentifier ?? '').split(',').filter(Boolean),
        tags: Object.fromEntries((g.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])),
        instances: (g.Instances ?? []).map((i) => ({ id: i.InstanceId!, az: i.AvailabilityZone!, lifecycle: i.LifecycleState ?? '' })),
        targetHealth,
        launchTemplate,
      });
    }
    fleets.sort((a, b) => (a.tier === 'web' ? -1 : 1) - (b.tier === 'web' ? -1 : 1));
  }

  // Database
  let database: DeployedDatabase | undefined;
  const dbEntry = ofType('AWS::RDS::DBInstance')[0];
  if (dbEntry) {
    const d = (await c.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: dbEntry[1].physicalId }))).DBInstances![0];
    database = {
      identifier: d.DBInstanceIdentifier!,
      address: d.Endpoint?.Address,
      port: d.Endpoint?.Port,
      engine: d.Engine,
      engineVersion: d.EngineVersion,
      instanceClass: d.DBInstanceClass,
      publiclyAccessible: d.PubliclyAccessible,
      storageEncrypted: d.StorageEncrypted,
      kmsKeyId: d.KmsKeyId,
      multiAz: d.MultiAZ,
      subnetIds: (d.DBSubnetGroup?.Subnets ?? []).map((s) => s.SubnetIdentifier!),
      subnetGroupName: d.DBSubnetGroup?.DBSubnetGroupName,
    };
  }

  // Security groups
  const groups = ofType('AWS::EC2::SecurityGroup');
  const physicalToLogical = new Map(groups.map(([id, r]) => [r.physicalId, id]));
  const edges = await deployedEdges(c.ec2, groups.map(([, r]) => r.physicalId), physicalToLogical);

  return { resources, vpc, subnets, fleets, database, edges };
}

/** Whether a route sends traffic to the internet: an internet gateway, a NAT gateway or a NAT instance. */
export function routeLeavesVpc(r: Route): string | undefined {
  if (r.GatewayId?.startsWith('igw-')) return `internet gateway ${r.GatewayId}`;
  if (r.NatGatewayId) return `NAT gateway ${r.NatGatewayId}`;
  if (r.InstanceId) return `NAT instance ${r.InstanceId}`;
  if (r.NetworkInterfaceId) return `network interface ${r.NetworkInterfaceId}`;
  if (r.EgressOnlyInternetGatewayId) return `egress-only internet gateway ${r.EgressOnlyInternetGatewayId}`;
  if (r.TransitGatewayId) return `transit gateway ${r.TransitGatewayId}`;
  return undefined;
}
