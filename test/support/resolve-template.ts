// Resolves the intrinsic functions of a synthesized template the way CloudFormation would in one
// account and region, so that its policy documents can be handed to an IAM policy simulator
// as plain ARNs and strings. Physical ids are those a deployment gave (the deploy rehearsal
// passes moto's), or made up in the shape of real ones (a table name, a key id, a secret ARN
// with its 6-character suffix); attributes follow CloudFormation (a log group's Arn ends in `:*`).
// Anything it does not know how to resolve throws, naming it: a new resource type or intrinsic
// in a policy must be taught here, never silently passed through.
import { createHash } from 'node:crypto';

export interface DeployTarget {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  readonly stackName: string;
}

export const TEST_TARGET: Omit<DeployTarget, 'stackName'> = {
  account: '123456789012',
  region: 'us-east-1',
  partition: 'aws',
};

export interface TemplateJson {
  Resources: Record<string, { Type: string; Properties?: any }>;
}

/** What Ref and Fn::GetAtt give for one resource. */
export interface Physical {
  readonly ref: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** A stable stand-in for the random suffix CloudFormation appends to generated names. */
function suffixOf(logicalId: string, length = 12): string {
  return createHash('sha256').update(logicalId).digest('hex').slice(0, length).toUpperCase();
}

/**
 * The Ref and attributes each resource type of the stack resolves to, as CloudFormation documents
 * them. `physicalId` is the id a deployment gave the resource (as ListStackResources names it);
 * without one, a made-up id of the same shape.
 */
export function physicalOf(
  logicalId: string,
  resource: { Type: string; Properties?: any },
  target: DeployTarget,
  physicalId?: string,
): Physical {
  const { account, region, partition, stackName } = target;
  const p = resource.Properties ?? {};
  const generated = physicalId || `${stackName}-${logicalId}-${suffixOf(logicalId)}`;
  const arn = (service: string, rest: string, withRegion = true) =>
    `arn:${partition}:${service}:${withRegion ? region : ''}:${account}:${rest}`;
  switch (resource.Type) {
    case 'AWS::DynamoDB::Table': {
      const name = p.TableName ?? generated;
      return { ref: name, attributes: { Arn: arn('dynamodb', `table/${name}`) } };
    }
    case 'AWS::KMS::Key': {
      const h = createHash('sha256').update(logicalId).digest('hex');
      const id =
        physicalId || `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
      return { ref: id, attributes: { Arn: arn('kms', `key/${id}`), KeyId: id } };
    }
    case 'AWS::Events::EventBus': {
      const name = p.Name;
      return { ref: name, attributes: { Arn: arn('events', `event-bus/${name}`), Name: name } };
    }
    case 'AWS::Logs::LogGroup': {
      const name = p.LogGroupName ?? generated;
      // GetAtt Arn of a log group ends in `:*` (it covers the group's streams).
      return { ref: name, attributes: { Arn: arn('logs', `log-group:${name}:*`) } };
    }
    case 'AWS::SecretsManager::Secret': {
      const name = p.Name ?? generated;
      // Ref is the complete ARN, with the 6-character suffix Secrets Manager appends.
      return { ref: physicalId || arn('secretsmanager', `secret:${name}-${suffixOf(logicalId, 6)}`), attributes: {} };
    }
    case 'AWS::IAM::Role': {
      const name = p.RoleName ?? generated.slice(0, 64);
      return { ref: name, attributes: { Arn: arn('iam', `role/${name}`, false) } };
    }
    case 'AWS::IAM::ManagedPolicy': {
      const name = p.ManagedPolicyName ?? generated;
      return { ref: physicalId || arn('iam', `policy/${name}`, false), attributes: {} };
    }
    case 'AWS::SNS::Topic': {
      const name = p.TopicName ?? generated;
      return { ref: arn('sns', name), attributes: { TopicArn: arn('sns', name), TopicName: name } };
    }
    case 'AWS::Lambda::Function': {
      const name = p.FunctionName ?? generated.slice(0, 64);
      return { ref: name, attributes: { Arn: arn('lambda', `function:${name}`) } };
    }
    case 'AWS::ApiGatewayV2::Api': {
      const id = suffixOf(logicalId, 10).toLowerCase();
      return { ref: id, attributes: { ApiEndpoint: `https://${id}.execute-api.${region}.amazonaws.com`, ApiId: id } };
    }
    case 'AWS::ApiGatewayV2::Stage':
      return { ref: p.StageName, attributes: {} };
    default:
      return { ref: `<unresolved ${resource.Type} ${logicalId}>`, attributes: {} };
  }
}

export class TemplateResolver {
  private readonly physical = new Map<string, Physical>();

  private readonly template: TemplateJson;
  readonly target: DeployTarget;

  /** `physicalIds`: logical id → the physical id a deployment gave it, where there is one. */
  constructor(template: TemplateJson, target: DeployTarget, physicalIds: Readonly<Record<string, string>> = {}) {
    this.template = template;
    this.target = target;
    for (const [id, resource] of Object.entries(template.Resources))
      this.physical.set(id, physicalOf(id, resource, target, physicalIds[id]));
  }

  /** Ref of a resource of the template. */
  ref(logicalId: string): string {
    return this.resolve({ Ref: logicalId });
  }

  /** Fn::GetAtt of a resource of the template. */
  getAtt(logicalId: string, attribute: string): string {
    return this.resolve({ 'Fn::GetAtt': [logicalId, attribute] });
  }

  /** `value` with every intrinsic function replaced by what CloudFormation would put there. */
  resolve(value: any): any {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::')))
      return this.intrinsic(keys[0]!, value[keys[0]!]);
    return Object.fromEntries(keys.map((k) => [k, this.resolve(value[k])]));
  }

  private intrinsic(name: string, arg: any): any {
    switch (name) {
      case 'Ref':
        return this.pseudo(arg) ?? this.physicalFor(arg, 'Ref').ref;
      case 'Fn::GetAtt': {
        const [id, attribute] = typeof arg === 'string' ? arg.split('.') : arg;
        const value = this.physicalFor(id, `Fn::GetAtt ${attribute}`).attributes[attribute];
        if (value === undefined)
          throw new Error(
            `No Fn::GetAtt ${attribute} for ${this.template.Resources[id]!.Type} ${id}: teach resolve-template.ts`,
          );
        return value;
      }
      case 'Fn::Join': {
        const [separator, parts] = arg;
        return this.resolve(parts).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = arg;
        return this.resolve(list)[Number(this.resolve(index))];
      }
      case 'Fn::Split': {
        const [separator, source] = arg;
        return String(this.resolve(source)).split(separator);
      }
      case 'Fn::Sub': {
        const [text, variables] = typeof arg === 'string' ? [arg, {}] : arg;
        return text.replace(/\$\{([^}!]+)\}/g, (_: string, v: string) =>
          v in variables
            ? this.resolve(variables[v])
            : v.includes('.')
              ? this.intrinsic('Fn::GetAtt', v)
              : this.intrinsic('Ref', v),
        );
      }
      default:
        throw new Error(`Cannot resolve ${name}: teach resolve-template.ts`);
    }
  }

  private pseudo(name: string): string | undefined {
    const { account, region, partition, stackName } = this.target;
    return {
      'AWS::AccountId': account,
      'AWS::Region': region,
      'AWS::Partition': partition,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': stackName,
    }[name];
  }

  private physicalFor(logicalId: string, what: string): Physical {
    const physical = this.physical.get(logicalId);
    if (!physical) throw new Error(`${what}: no resource ${logicalId} in the template`);
    if (physical.ref.startsWith('<unresolved'))
      throw new Error(`${what} of ${physical.ref.slice(12, -1)}: teach resolve-template.ts this resource type`);
    return physical;
  }
}
