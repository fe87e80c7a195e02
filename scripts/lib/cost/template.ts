/**
 * Reading a synthesized CloudFormation template for the estimate: resources by type, references
 * between them, and literal numbers (CDK writes some as strings, e.g. `MinSize: "2"`).
 */

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: any;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

/** A resource with its logical ID. */
export interface Resource {
  readonly id: string;
  readonly type: string;
  readonly props: any;
}

export class TemplateView {
  public readonly resources: Resource[];

  constructor(public readonly template: CfnTemplate) {
    this.resources = Object.entries(template.Resources ?? {}).map(([id, r]) => ({ id, type: r.Type, props: r.Properties ?? {} }));
  }

  /** The resources of a type, in template order. */
  public ofType(type: string): Resource[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** The resource a `Ref` or `Fn::GetAtt` points to, if it is in the template. */
  public target(value: any): Resource | undefined {
    const id = value?.Ref ?? value?.['Fn::GetAtt']?.[0];
    return typeof id === 'string' ? this.resources.find((r) => r.id === id) : undefined;
  }

  /** Every resource type with its count, sorted by type. */
  public typeCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of [...this.resources].sort((a, b) => a.type.localeCompare(b.type))) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    return counts;
  }
}

/** A number written as a number or a numeric string; throws naming the resource when it is not literal. */
export function literalNumber(value: unknown, what: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (Number.isNaN(n)) throw new Error(`${what} is not a literal number (${JSON.stringify(value)}): the estimate cannot price it`);
  return n;
}

/** A short name for a logical ID: without the `Platform` prefix and the 8-character hash. */
export function shortName(id: string): string {
  return id.replace(/[0-9A-F]{8}$/, '').replace(/^Platform(?=[A-Z])/, '') || id;
}
