import { App } from 'aws-cdk-lib';
import { buildExample } from './common';

// The dev preset: 2 AZs, one NAT instance, t3.micro web and app instances (1 to 2 each), a
// single-AZ db.t4g.micro MySQL database deleted with the stack, HTTP allowed.
// The stack and its props: EXAMPLES in ./common.ts; every value: "Defaults by environment" in the README.
const app = new App();
buildExample(app, 'dev');
app.synth();
