/** EC2's limit on user data, in bytes, before base64 encoding. */
export const USER_DATA_LIMIT = 16384;

/**
 * The longest a token in user data can resolve to, in bytes. Tokens in the boot scripts stand for
 * AWS-generated values: bucket names (at most 63), load balancer DNS names (at most 32 + 1 + 16 +
 * region + `.elb.amazonaws.com`, under 90), database endpoints (under 128), ARNs of secrets, stacks
 * and resources (under 256 with long names), account IDs, regions, partitions, URL suffixes and
 * logical IDs (under 256). 256 bounds them all.
 */
export const TOKEN_BOUND = 256;

/**
 * An upper bound of the size in bytes of a resolved CloudFormation value as text: literals count
 * their UTF-8 bytes, `Fn::Join` joins, `Fn::Base64` counts its encoding (4 bytes per 3), `Fn::Sub`
 * counts its template with each `${...}` at `TOKEN_BOUND`, and every other intrinsic counts `TOKEN_BOUND`.
 */
export function userDataSizeBound(value: any): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') return String(value).length;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    if ('Fn::Base64' in value) return 4 * Math.ceil(userDataSizeBound(value['Fn::Base64']) / 3);
    if ('Fn::Join' in value) {
      const [separator, parts] = value['Fn::Join'];
      const list = parts as any[];
      return list.reduce((sum: number, p: any) => sum + userDataSizeBound(p), 0) + Buffer.byteLength(separator, 'utf8') * Math.max(0, list.length - 1);
    }
    if ('Fn::Sub' in value) {
      const template: string = Array.isArray(value['Fn::Sub']) ? value['Fn::Sub'][0] : value['Fn::Sub'];
      const literal = template.replace(/\$\{[^}]*\}/g, '');
      const refs = (template.match(/\$\{[^}]*\}/g) ?? []).length;
      return Buffer.byteLength(literal, 'utf8') + refs * TOKEN_BOUND;
    }
  }
  return TOKEN_BOUND;
}
