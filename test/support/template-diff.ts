import { fullDiff, ResourceImpact } from '@aws-cdk/cloudformation-diff';

/**
 * Resource types that hold data: replacing one loses (or orphans) that data.
 */
export const STATEFUL_RESOURCE_TYPES = [
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBSubnetGroup',
  'AWS::S3::Bucket',
  'AWS::KMS::Key',
  'AWS::SecretsManager::Secret',
  'AWS::Logs::LogGroup',
];

/** A stateful resource that an update would remove or replace. */
export interface StatefulFinding {
  readonly logicalId: string;
  readonly type: string;
  /** `removed`: the logical ID is gone; `replaced`/`may be replaced`: per the resource specification. */
  readonly kind: 'removed' | 'replaced' | 'may be replaced';
  /** The property whose change causes it. */
  readonly property?: string;
  /** For a replacement caused by a reference: the referenced resource that is replaced. */
  readonly via?: string;
  readonly message: string;
}

const REPLACING = [ResourceImpact.WILL_REPLACE, ResourceImpact.MAY_REPLACE];
const impactCache = new Map<string, ResourceImpact>();

/**
 * What changing one property of a resource type does, according to the CloudFormation resource
 * specification that `@aws-cdk/cloudformation-diff` ships (the same one `cdk diff` uses): asked by
 * diffing a resource against a copy of itself in which only that property differs.
 *
 * @param resource a resource of that type (e.g. from the template at hand), so that the diff's
 *   IAM and security-group summaries, which parse some properties, see well-formed values
 */
export function propertyChangeImpact(type: string, property: string, resource?: any): ResourceImpact {
  const key = `${type}.${property}`;
  let impact = impactCache.get(key);
  if (impact === undefined) {
    const oldResource = resource ? clone(resource) : { Type: type, Properties: { [property]: 'old-value' } };
    const newResource = clone(oldResource);
    newResource.Properties[property] = changed(oldResource.Properties[property]);
    const diff = fullDiff({ Resources: { R: oldResource } }, { Resources: { R: newResource } });
    impact = diff.resources.get('R')?.propertyUpdates[property]?.changeImpact ?? ResourceImpact.NO_CHANGE;
    impactCache.set(key, impact);
  }
  return impact;
}

function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x));
}

/** A different value of the same shape. */
function changed(value: any): any {
  if (typeof value === 'string') return `${value}-changed`;
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'boolean') return !value;
  if (Array.isArray(value)) return [...value, value.length > 0 ? changed(value[0]) : 'changed'];
  if (value && typeof value === 'object') {
    if (Array.isArray(value.Statement)) return { ...value, Statement: [...value.Statement, { Effect: 'Allow', Action: 'changed:Action', Resource: '*' }] };
    return { ...value, Changed: 'changed' };
  }
  return 'changed';
}

/** The resources a template value refers to with Ref, Fn::GetAtt or Fn::Sub. */
function referencedResources(value: any, resources: Record<string, any>, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    value.forEach((v) => referencedResources(v, resources, out));
  } else if (value && typeof value === 'object') {
    if (typeof value.Ref === 'string' && resources[value.Ref]) out.add(value.Ref);
    const ga = value['Fn::GetAtt'];
    if (ga) {
      const id = Array.isArray(ga) ? ga[0] : String(ga).split('.')[0];
      if (resources[id]) out.add(id);
    }
    const sub = value['Fn::Sub'];
    if (sub) {
      const text = String(Array.isArray(sub) ? sub[0] : sub);
      for (const m of text.matchAll(/\$\{([A-Za-z0-9]+)(\.[A-Za-z0-9.]+)?\}/g)) {
        if (resources[m[1]]) out.add(m[1]);
      }
    }
    Object.values(value).forEach((v) => referencedResources(v, resources, out));
  }
  return out;
}

const short = (v: unknown) => {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/**
 * Every stateful resource (see `STATEFUL_RESOURCE_TYPES`) that deploying `newTemplate` over a stack
 * made from `oldTemplate` would remove or replace:
 * - its logical ID is gone (CloudFormation deletes the resource, or orphans it when retained);
 * - its type changed;
 * - a property whose change requires replacement (or may require it) changed, per the resource
 *   specification (`fullDiff` and its `changeImpact`);
 * - a replacement-causing property refers to another resource that is itself replaced (a new
 *   physical ID is a changed value), followed through any number of resources (fullDiff marks
 *   such references; resources it does not follow, e.g. through Fn::Sub, are followed here).
 */
export function findStatefulReplacements(oldTemplate: any, newTemplate: any, statefulTypes = STATEFUL_RESOURCE_TYPES): StatefulFinding[] {
  const diff = fullDiff(oldTemplate, newTemplate);
  const oldResources: Record<string, any> = oldTemplate.Resources ?? {};
  const newResources: Record<string, any> = newTemplate.Resources ?? {};

  // Direct replacements, any type.
  const replaced = new Map<string, { kind: StatefulFinding['kind']; property?: string; via?: string; detail: string }>();
  const removed = new Map<string, string>();
  diff.resources.forEachDifference((logicalId, change) => {
    if (change.isRemoval) {
      removed.set(logicalId, change.oldResourceType!);
      return;
    }
    if (change.isAddition) return;
    if (change.resourceTypeChanged) {
      replaced.set(logicalId, { kind: 'replaced', detail: `its type changes from ${change.oldResourceType} to ${change.newResourceType}` });
      return;
    }
    for (const [property, pd] of Object.entries(change.propertyUpdates)) {
      if (pd.changeImpact && REPLACING.includes(pd.changeImpact) && !replaced.has(logicalId)) {
        // fullDiff itself follows references: a Ref to a replaced resource reads "<id> (replaced)".
        const via = /"([A-Za-z0-9]+) \(replaced\)"/.exec(JSON.stringify(pd.newValue) ?? '')?.[1];
        replaced.set(logicalId, {
          kind: pd.changeImpact === ResourceImpact.WILL_REPLACE ? 'replaced' : 'may be replaced',
          property,
          via,
          detail: via
            ? `property ${property} refers to ${via}, which is replaced`
            : `property ${property} changes (${short(pd.oldValue)} -> ${short(pd.newValue)})`,
        });
      }
    }
  });

  // Replacements caused by references to replaced resources.
  for (let grew = true; grew;) {
    grew = false;
    for (const [logicalId, r] of Object.entries<any>(newResources)) {
      if (replaced.has(logicalId) || !oldResources[logicalId] || oldResources[logicalId].Type !== r.Type) continue;
      for (const [property, value] of Object.entries<any>(r.Properties ?? {})) {
        const impact = propertyChangeImpact(r.Type, property, r);
        if (!REPLACING.includes(impact)) continue;
        const via = [...referencedResources(value, newResources)].find((id) => replaced.has(id));
        if (via) {
          replaced.set(logicalId, {
            kind: impact === ResourceImpact.WILL_REPLACE && replaced.get(via)!.kind === 'replaced' ? 'replaced' : 'may be replaced',
            property,
            via,
            detail: `property ${property} refers to ${via}, which is ${replaced.get(via)!.kind}`,
          });
          grew = true;
          break;
        }
      }
    }
  }

  const findings: StatefulFinding[] = [];
  for (const [logicalId, type] of removed) {
    if (!statefulTypes.includes(type)) continue;
    findings.push({
      logicalId,
      type,
      kind: 'removed',
      message: `${type} ${logicalId} disappears: its logical ID is no longer in the template, so CloudFormation deletes (or orphans) it`,
    });
  }
  for (const [logicalId, r] of replaced) {
    const type = oldResources[logicalId].Type;
    if (!statefulTypes.includes(type)) continue;
    findings.push({
      logicalId,
      type,
      kind: r.kind,
      property: r.property,
      via: r.via,
      message: `${type} ${logicalId} would be ${r.kind}: ${r.detail}`,
    });
  }
  return findings.sort((a, b) => a.logicalId.localeCompare(b.logicalId));
}

/** A resource that differs between two templates. */
export interface ChangedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly impact: ResourceImpact;
  readonly properties: string[];
}

/** Every resource that differs between two templates, with its type and impact. */
export function changedResources(oldTemplate: any, newTemplate: any): ChangedResource[] {
  const diff = fullDiff(oldTemplate, newTemplate);
  const out: ChangedResource[] = [];
  diff.resources.forEachDifference((logicalId, change) => {
    out.push({
      logicalId,
      type: (change.newResourceType ?? change.oldResourceType)!,
      impact: change.changeImpact,
      properties: [...Object.keys(change.propertyUpdates), ...Object.keys(change.otherChanges)],
    });
  });
  return out;
}
