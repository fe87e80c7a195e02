import { App } from 'aws-cdk-lib';
import { buildExample } from './common';

// The staging preset: 2 AZs, one NAT gateway, t3.small web and app instances (2 to 4 each), a
// Multi-AZ db.t4g.medium MySQL database with an AWS Backup plan, snapshotted on deletion. Without
// a certificate it serves HTTP, accepted explicitly here (allowHttpOnly).
// The stack and its props: EXAMPLES in ./common.ts; every value: "Defaults by environment" in the README.
const app = new App();
buildExample(app, 'staging');
app.synth();
