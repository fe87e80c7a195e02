import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';

/** The largest inline app, in bytes (user data is limited to 16 KB). */
const MAX_INLINE_BYTES = 8192;
const HEREDOC = 'CDK_THREE_TIER_APP_EOF';

/**
 * What `AppSource.bind` gives the app tier.
 */
export interface AppSourceConfig {
  /** Shell commands that put the app into the app directory. */
  readonly commands: string[];
  /** The S3 asset holding the app, if any: the instances may read exactly this object. */
  readonly asset?: s3assets.Asset;
}

/**
 * Where the app tier's code comes from: `AppSource.fromAsset(path)` or `AppSource.fromInline(code)`.
 */
export abstract class AppSource {
  /**
   * A directory (or .zip file) uploaded as an S3 asset. The instances download it through the S3
   * gateway endpoint at boot and unpack it into the app directory.
   */
  public static fromAsset(path: string): AppSource {
    return new AssetAppSource(path);
  }

  /**
   * A tiny app written into the app directory as one file (at most 8 KiB).
   *
   * @param code the file's content, e.g. a Node.js HTTP server
   * @param fileName the file's name. @default 'server.js'
   */
  public static fromInline(code: string, fileName?: string): AppSource {
    return new InlineAppSource(code, fileName ?? 'server.js');
  }

  /**
   * Produces the commands that install the app into `appDirectory`.
   */
  public abstract bind(scope: Construct, appDirectory: string): AppSourceConfig;
}

class AssetAppSource extends AppSource {
  constructor(private readonly path: string) {
    super();
  }

  public bind(scope: Construct, appDirectory: string): AppSourceConfig {
    const asset = new s3assets.Asset(scope, 'AppAsset', { path: this.path });
    return {
      asset,
      commands: [
        `aws s3 cp 's3://${asset.s3BucketName}/${asset.s3ObjectKey}' /tmp/app.zip`,
        `unzip -o -q /tmp/app.zip -d ${appDirectory}`,
        'rm -f /tmp/app.zip',
      ],
    };
  }
}

class InlineAppSource extends AppSource {
  constructor(private readonly code: string, private readonly fileName: string) {
    super();
  }

  public bind(scope: Construct, appDirectory: string): AppSourceConfig {
    const bytes = Buffer.byteLength(this.code, 'utf8');
    if (bytes > MAX_INLINE_BYTES) {
      throw new Error(`source (inline code of ${bytes} bytes) must be at most ${MAX_INLINE_BYTES} bytes in ${scope.node.path}: use AppSource.fromAsset() for larger apps`);
    }
    if (!/^[A-Za-z0-9._-]+$/.test(this.fileName)) {
      throw new Error(`source (file name '${this.fileName}') must be a plain file name (letters, digits, . _ -) in ${scope.node.path}`);
    }
    if (this.code.split('\n').includes(HEREDOC)) {
      throw new Error(`source (inline code) must not contain a line '${HEREDOC}' in ${scope.node.path}`);
    }
    return {
      commands: [
        `cat > ${appDirectory}/${this.fileName} <<'${HEREDOC}'`,
        this.code,
        HEREDOC,
      ],
    };
  }
}
