import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { InterfaceEndpointService } from '../network/endpoints';
import { NatMode } from '../network/nat-mode';
import { ALL_INTERFACE_ENDPOINTS } from '../private/endpoints';

/**
 * What happens when the web tier has no certificate (HTTP only).
 */
export enum HttpOnlyPolicy {
  /** HTTP only is accepted silently. */
  ALLOW = 'allow',
  /** HTTP only works, with a warning annotation (`cdk-three-tier:httpOnly`). */
  WARN = 'warn',
  /** HTTP only fails synth unless `allowHttpOnly: true` is given. */
  ERROR = 'error',
}

/**
 * The values a preset sets. Every one of them can be overridden by the matching tier prop.
 */
export interface PresetValues {
  /** Preset name, used in tags and outputs (`dev`, `staging`, `prod`). */
  readonly name: string;
  /** Number of Availability Zones. */
  readonly maxAzs: number;
  /** NAT for the web and app subnets. */
  readonly natMode: NatMode;
  /** Interface VPC endpoints. */
  readonly interfaceEndpoints: InterfaceEndpointService[];
  /** Retention of VPC flow logs. */
  readonly flowLogRetention: logs.RetentionDays;
  /** Days ALB access logs are kept. */
  readonly accessLogExpirationDays: number;
  /** Deletion protection of both load balancers. */
  readonly loadBalancerDeletionProtection: boolean;
  /** What HTTP only (no certificate) does. */
  readonly httpOnlyPolicy: HttpOnlyPolicy;
  /** Web (NGINX) instance type. */
  readonly webInstanceType: ec2.InstanceType;
  /** Web ASG minimum capacity. */
  readonly webMinCapacity: number;
  /** Web ASG maximum capacity. */
  readonly webMaxCapacity: number;
  /** App (API) instance type. */
  readonly appInstanceType: ec2.InstanceType;
  /** App ASG minimum capacity. */
  readonly appMinCapacity: number;
  /** App ASG maximum capacity. */
  readonly appMaxCapacity: number;
  /** Database instance type. */
  readonly databaseInstanceType: ec2.InstanceType;
  /** Database Multi-AZ. */
  readonly multiAz: boolean;
  /** Initial database storage in GiB. */
  readonly allocatedStorageGiB: number;
  /** Storage autoscaling ceiling in GiB. */
  readonly maxAllocatedStorageGiB: number;
  /** Automated backup retention. */
  readonly backupRetention: Duration;
  /** Database deletion protection. */
  readonly databaseDeletionProtection: boolean;
  /** What happens to the database (and its key) when it leaves the stack. */
  readonly databaseRemovalPolicy: RemovalPolicy;
  /** Enhanced monitoring interval of the database. */
  readonly monitoringInterval: Duration;
  /** AWS Backup plan for the database. */
  readonly backupPlan: boolean;
  /** The AWS Backup plan also keeps a monthly backup for a year (otherwise daily backups kept 35 days). */
  readonly monthlyBackups: boolean;
}

const t = (c: ec2.InstanceClass, s: ec2.InstanceSize) => ec2.InstanceType.of(c, s);

/**
 * Environment presets: `Preset.dev()`, `Preset.staging()`, `Preset.prod()`.
 *
 * A preset fills in every value a user does not set; a tier prop always wins over the preset.
 */
export class Preset {
  /**
   * Cheapest setup that is still secure: 2 AZs, one NAT instance, single-AZ database, short
   * retention, no deletion protection, HTTP without a certificate allowed.
   */
  public static dev(): Preset {
    return new Preset({
      name: 'dev',
      maxAzs: 2,
      natMode: NatMode.instance(),
      interfaceEndpoints: [],
      flowLogRetention: logs.RetentionDays.ONE_WEEK,
      accessLogExpirationDays: 30,
      loadBalancerDeletionProtection: false,
      httpOnlyPolicy: HttpOnlyPolicy.ALLOW,
      webInstanceType: t(ec2.InstanceClass.T3, ec2.InstanceSize.MICRO),
      webMinCapacity: 1,
      webMaxCapacity: 2,
      appInstanceType: t(ec2.InstanceClass.T3, ec2.InstanceSize.MICRO),
      appMinCapacity: 1,
      appMaxCapacity: 2,
      databaseInstanceType: t(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
      multiAz: false,
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 50,
      backupRetention: Duration.days(1),
      databaseDeletionProtection: false,
      databaseRemovalPolicy: RemovalPolicy.DESTROY,
      monitoringInterval: Duration.seconds(60),
      backupPlan: false,
      monthlyBackups: false,
    });
  }

  /**
   * Production-like at lower cost: 2 AZs, one NAT gateway, Multi-AZ database, snapshot on removal,
   * HTTP without a certificate works with a warning.
   */
  public static staging(): Preset {
    return new Preset({
      name: 'staging',
      maxAzs: 2,
      natMode: NatMode.singleGateway(),
      interfaceEndpoints: [],
      flowLogRetention: logs.RetentionDays.ONE_MONTH,
      accessLogExpirationDays: 90,
      loadBalancerDeletionProtection: false,
      httpOnlyPolicy: HttpOnlyPolicy.WARN,
      webInstanceType: t(ec2.InstanceClass.T3, ec2.InstanceSize.SMALL),
      webMinCapacity: 2,
      webMaxCapacity: 4,
      appInstanceType: t(ec2.InstanceClass.T3, ec2.InstanceSize.SMALL),
      appMinCapacity: 2,
      appMaxCapacity: 4,
      databaseInstanceType: t(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
      multiAz: true,
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 100,
      backupRetention: Duration.days(7),
      databaseDeletionProtection: false,
      databaseRemovalPolicy: RemovalPolicy.SNAPSHOT,
      monitoringInterval: Duration.seconds(60),
      backupPlan: true,
      monthlyBackups: false,
    });
  }

  /**
   * Highly available: 3 AZs, a NAT gateway per AZ, all interface endpoints, Multi-AZ database with
   * deletion protection and 30-day backups, snapshot on removal, HTTPS required.
   */
  public static prod(): Preset {
    return new Preset({
      name: 'prod',
      maxAzs: 3,
      natMode: NatMode.gatewayPerAz(),
      interfaceEndpoints: [...ALL_INTERFACE_ENDPOINTS],
      flowLogRetention: logs.RetentionDays.ONE_YEAR,
      accessLogExpirationDays: 365,
      loadBalancerDeletionProtection: true,
      httpOnlyPolicy: HttpOnlyPolicy.ERROR,
      webInstanceType: t(ec2.InstanceClass.M7I, ec2.InstanceSize.LARGE),
      webMinCapacity: 3,
      webMaxCapacity: 9,
      appInstanceType: t(ec2.InstanceClass.M7I, ec2.InstanceSize.LARGE),
      appMinCapacity: 3,
      appMaxCapacity: 9,
      databaseInstanceType: t(ec2.InstanceClass.R7G, ec2.InstanceSize.LARGE),
      multiAz: true,
      allocatedStorageGiB: 100,
      maxAllocatedStorageGiB: 1000,
      backupRetention: Duration.days(30),
      databaseDeletionProtection: true,
      databaseRemovalPolicy: RemovalPolicy.SNAPSHOT,
      monitoringInterval: Duration.seconds(30),
      backupPlan: true,
      monthlyBackups: true,
    });
  }

  /**
   * A preset of your own, e.g. `Preset.custom({ ...Preset.prod().values, name: 'perf' })`.
   */
  public static custom(values: PresetValues): Preset {
    return new Preset(values);
  }

  /** The preset's name. */
  public readonly name: string;

  /** Every value the preset sets. */
  public readonly values: PresetValues;

  private constructor(values: PresetValues) {
    this.name = values.name;
    this.values = values;
  }
}
