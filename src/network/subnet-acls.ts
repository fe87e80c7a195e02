import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { TIER_SLOTS, tierBlockCidr } from './address-plan';
import { TierSubnets } from './existing-vpc-inputs';
import { SubnetTrafficOptions } from './options/subnet-traffic-options';
import { PlannedRule, planSubnetTraffic, SubnetGroup } from './subnet-traffic';
import { acknowledge } from '../private/compliance';
import { checkPort, invalid, literalNumber } from '../private/validation';

/** The ports of `SubnetTrafficOptions`, checked, with their defaults. */
export interface SubnetTrafficPorts {
  readonly publicListenerPorts: number[];
  readonly webPort: number;
  readonly appListenerPort: number;
  readonly appPort: number;
  readonly databasePort: number;
  readonly dataSubnetFunctions: boolean;
}

/** Checks the ports of `restrictSubnetTraffic` (literal TCP ports, 1 to 10 listener ports). */
export function checkSubnetTrafficOptions(scope: Construct, options: SubnetTrafficOptions): SubnetTrafficPorts {
  const port = (prop: string, value: number) => {
    const n = literalNumber(scope, prop, value, 'network ACL rules are written at synth time');
    checkPort(scope, prop, n);
    return n;
  };
  const publicListenerPorts = options.publicListenerPorts ?? [80, 443];
  if (!Array.isArray(publicListenerPorts) || publicListenerPorts.length < 1 || publicListenerPorts.length > 10) {
    invalid(scope, 'publicListenerPorts', publicListenerPorts, 'must list 1 to 10 ports');
  }
  return {
    publicListenerPorts: [...new Set(publicListenerPorts.map((p) => port('publicListenerPorts', p)))],
    webPort: port('webPort', options.webPort ?? 80),
    appListenerPort: port('appListenerPort', options.appListenerPort),
    appPort: port('appPort', options.appPort),
    databasePort: port('databasePort', options.databasePort),
    dataSubnetFunctions: options.dataSubnetFunctions ?? false,
  };
}

/** The planned rules of the VPC the tier created, on its address plan. */
export function planCreatedVpcTraffic(cidr: string, nat: boolean, endpoints: boolean, ports: SubnetTrafficPorts): PlannedRule[] {
  const blocks = Object.fromEntries(Object.keys(TIER_SLOTS).map((g) => [g, tierBlockCidr(cidr, g)])) as Record<SubnetGroup, string>;
  return planSubnetTraffic({ vpcCidr: cidr, blocks, nat, endpoints, ...ports });
}

/** One network ACL per subnet group (`<Group>Acl` in `scope`), with the planned entries. */
export function createSubnetAcls(scope: Construct, vpc: ec2.IVpc, subnets: TierSubnets, rules: PlannedRule[]): Map<string, ec2.NetworkAcl> {
  const selections: Record<SubnetGroup, ec2.SubnetSelection> = {
    Public: subnets.publicSubnets, Web: subnets.webSubnets, App: subnets.appSubnets, Data: subnets.dataSubnets,
  };
  const acls = new Map<string, ec2.NetworkAcl>();
  for (const group of Object.keys(selections) as SubnetGroup[]) {
    const acl = new ec2.NetworkAcl(scope, `${group}Acl`, { vpc, subnetSelection: selections[group] });
    acknowledge(acl, 'networkAcls');
    acls.set(group, acl);
  }
  for (const rule of rules) {
    const direction = rule.egress ? 'Egress' : 'Ingress';
    acls.get(rule.subnetGroup)!.addEntry(`${direction}${rule.ruleNumber}`, {
      ruleNumber: rule.ruleNumber,
      direction: rule.egress ? ec2.TrafficDirection.EGRESS : ec2.TrafficDirection.INGRESS,
      ruleAction: rule.allow ? ec2.Action.ALLOW : ec2.Action.DENY,
      cidr: ec2.AclCidr.ipv4(rule.cidr),
      traffic: rule.protocol === 'all' ? ec2.AclTraffic.allTraffic() : ec2.AclTraffic.tcpPortRange(rule.fromPort!, rule.toPort!),
    });
  }
  return acls;
}
