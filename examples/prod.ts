import { App } from 'aws-cdk-lib';
import { buildExample } from './common';

// The prod preset: 3 AZs, egress to AWS services only through VPC endpoints, m7i.large web and app
// instances (3 to 9 each), a Multi-AZ db.r7g.large MySQL database with deletion protection and a
// year of monthly backups. Production requires HTTPS; this example accepts HTTP only explicitly
// (allowHttpOnly) so that it synthesizes without a domain.
// The stack and its props: EXAMPLES in ./common.ts; every value: "Defaults by environment" in the README.
const app = new App();
buildExample(app, 'prod');
app.synth();
