import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { InterfaceEndpointService } from '../network/options/endpoints';

/** Every interface endpoint the platform knows, in a stable order. */
export const ALL_INTERFACE_ENDPOINTS: InterfaceEndpointService[] = [
  InterfaceEndpointService.SSM,
  InterfaceEndpointService.SSM_MESSAGES,
  InterfaceEndpointService.EC2_MESSAGES,
  InterfaceEndpointService.SECRETS_MANAGER,
  InterfaceEndpointService.CLOUDWATCH_LOGS,
  InterfaceEndpointService.KMS,
  InterfaceEndpointService.CLOUDFORMATION,
  InterfaceEndpointService.CLOUDWATCH_MONITORING,
  InterfaceEndpointService.EC2,
];

/** The aws-cdk-lib service for an endpoint. */
export function awsService(service: InterfaceEndpointService): ec2.InterfaceVpcEndpointAwsService {
  switch (service) {
    case InterfaceEndpointService.SSM: return ec2.InterfaceVpcEndpointAwsService.SSM;
    case InterfaceEndpointService.SSM_MESSAGES: return ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES;
    case InterfaceEndpointService.EC2_MESSAGES: return ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES;
    case InterfaceEndpointService.SECRETS_MANAGER: return ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER;
    case InterfaceEndpointService.CLOUDWATCH_LOGS: return ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS;
    case InterfaceEndpointService.KMS: return ec2.InterfaceVpcEndpointAwsService.KMS;
    case InterfaceEndpointService.CLOUDFORMATION: return ec2.InterfaceVpcEndpointAwsService.CLOUDFORMATION;
    case InterfaceEndpointService.CLOUDWATCH_MONITORING: return ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING;
    case InterfaceEndpointService.EC2: return ec2.InterfaceVpcEndpointAwsService.EC2;
  }
}

/** Construct id of an endpoint (stable: part of logical IDs). */
export function endpointId(service: InterfaceEndpointService): string {
  return service.split(/[^a-z0-9]/i).map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('') + 'Endpoint';
}
