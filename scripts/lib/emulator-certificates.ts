/**
 * Stand-in ACM certificates in the emulator for a template's `AWS::CertificateManager::Certificate`
 * resources. moto has no ACM model in CloudFormation (the certificates are skipped, and a
 * DNS-validated one would never be issued there), but its load balancer model refuses an HTTPS
 * listener whose certificate is not in its ACM ("CertificateNotFoundException: Supplied
 * certificate was not found"). `adaptTemplateForEmulator` replaces each certificate reference with
 * the placeholder `arn:aws:certificatemanager:<region>:<account>:emulator-unmodelled:<LogicalId>`;
 * this requests one certificate per resource (same domain name) from the emulator's ACM API and
 * puts its ARN in place of that placeholder. Emulator only.
 */

/** One certificate stood in for: the template's logical ID, its domain and the emulator's ARN. */
export interface StandInCertificate {
  readonly logicalId: string;
  readonly domainName: string;
  readonly arn: string;
}

/**
 * Requests a certificate in the emulator's ACM for each certificate resource of `original` and
 * returns `adapted` (the template from `adaptTemplateForEmulator`) with the placeholders replaced.
 * Called with the project's SDK clients' endpoint; no ACM client is installed, so it speaks the
 * ACM JSON protocol (the emulator does not verify signatures).
 */
export async function standInCertificates(
  endpoint: string, original: any, adapted: any, env: { account: string; region: string },
): Promise<{ template: any; certificates: StandInCertificate[] }> {
  const certificates: StandInCertificate[] = [];
  let text = JSON.stringify(adapted);
  for (const [logicalId, r] of Object.entries<any>(original.Resources ?? {})) {
    if (r.Type !== 'AWS::CertificateManager::Certificate') continue;
    const domainName = String(r.Properties?.DomainName);
    const arn = await requestCertificate(endpoint, env.region, domainName);
    const placeholder = `arn:aws:certificatemanager:${env.region}:${env.account}:emulator-unmodelled:${logicalId}`;
    text = text.split(JSON.stringify(placeholder)).join(JSON.stringify(arn));
    certificates.push({ logicalId, domainName, arn });
  }
  return { template: JSON.parse(text), certificates };
}

async function requestCertificate(endpoint: string, region: string, domainName: string): Promise<string> {
  const answer = await callEmulatorJsonApi(endpoint, region, 'acm', 'CertificateManager.RequestCertificate', { DomainName: domainName, ValidationMethod: 'DNS' });
  return answer.CertificateArn;
}

/**
 * Calls an AWS JSON-protocol API of the emulator (`target` e.g. `CertificateManager.RequestCertificate`),
 * for the services the project installs no SDK client of. The emulator does not verify signatures.
 */
export async function callEmulatorJsonApi(endpoint: string, region: string, service: string, target: string, body: object): Promise<any> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': target,
      'Authorization': `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`the emulator refused ${target}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}
