/**
 * The ports of the traffic between the tiers, from which `restrictSubnetTraffic` derives the
 * network ACL rules.
 */
export interface SubnetTrafficOptions {
  /** Port of the database in the data subnets. */
  readonly databasePort: number;
  /** Port the API instances in the app subnets listen on. */
  readonly appPort: number;
  /** Port of the internal load balancer's listener in the app subnets. */
  readonly appListenerPort: number;
  /**
   * Port the web instances listen on (the public load balancer's target port).
   *
   * @default 80
   */
  readonly webPort?: number;
  /**
   * Listener ports of the public load balancer (1 to 10 ports).
   *
   * @default [80, 443]
   */
  readonly publicListenerPorts?: number[];
  /**
   * Functions run in the data subnets (the credential rotation function when it uses the Secrets
   * Manager endpoint): the data subnets then admit the database port from each other (across AZs)
   * and, if there are interface endpoints, reach them on 443.
   *
   * @default false
   */
  readonly dataSubnetFunctions?: boolean;
}

/**
 * One network ACL entry made by `restrictSubnetTraffic`.
 */
export interface SubnetTrafficRule {
  /** The subnet group whose network ACL holds the entry: `Public`, `Web`, `App` or `Data`. */
  readonly subnetGroup: string;
  /** The rule number (lower numbers are evaluated first). */
  readonly ruleNumber: number;
  /** Outbound (true) or inbound (false). */
  readonly egress: boolean;
  /** Allow (true) or deny (false). */
  readonly allow: boolean;
  /** `tcp`, or `all` for the deny rules. */
  readonly protocol: string;
  /** First port of the range (TCP rules). @default - all ports */
  readonly fromPort?: number;
  /** Last port of the range (TCP rules). @default - all ports */
  readonly toPort?: number;
  /** The peer's CIDR. */
  readonly cidr: string;
  /** The peer in words: `web subnets`, `the VPC`, `anywhere`. */
  readonly peer: string;
  /** Why the entry exists. */
  readonly purpose: string;
}
