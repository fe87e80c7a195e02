import * as fs from 'fs';
import { Token } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { shellArg, writeFileCommands } from '../private/shell';
import { invalid } from '../private/validation';

/** The largest inline app, in bytes (user data is limited to 16 KB). */
const MAX_INLINE_BYTES = 8192;

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
    checkAssetPath(scope, this.path);
    const asset = new s3assets.Asset(scope, 'AppAsset', { path: this.path });
    return {
      asset,
      commands: [
        `aws s3 cp ${shellArg(`s3://${asset.s3BucketName}/${asset.s3ObjectKey}`)} /tmp/app.zip --only-show-errors`,
        `unzip -o -q /tmp/app.zip -d ${shellArg(appDirectory)}`,
        'rm -f /tmp/app.zip',
      ],
    };
  }
}

/** The app's asset must exist and be a directory or a zip file (instances unzip it at boot). */
function checkAssetPath(scope: Construct, path: string): void {
  if (typeof path !== 'string' || path === '') {
    invalid(scope, 'source', path, 'AppSource.fromAsset() needs the path of a directory or a .zip file');
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(path);
  } catch {
    return invalid(scope, 'source', path, 'AppSource.fromAsset() needs an existing directory or .zip file (nothing is at this path)');
  }
  if (stat.isDirectory()) return;
  const head = Buffer.alloc(4);
  const fd = fs.openSync(path, 'r');
  try {
    fs.readSync(fd, head, 0, 4, 0);
  } finally {
    fs.closeSync(fd);
  }
  // Local file header, or the end-of-central-directory record of an empty archive.
  if (!head.equals(Buffer.from([0x50, 0x4b, 0x03, 0x04])) && !head.equals(Buffer.from([0x50, 0x4b, 0x05, 0x06]))) {
    invalid(scope, 'source', path, 'AppSource.fromAsset() needs a directory or a zip archive (this file does not start with a zip header)');
  }
}

class InlineAppSource extends AppSource {
  constructor(private readonly code: string, private readonly fileName: string) {
    super();
  }

  public bind(scope: Construct, appDirectory: string): AppSourceConfig {
    if (typeof this.code !== 'string' || Token.isUnresolved(this.code)) {
      invalid(scope, 'source', this.code, 'AppSource.fromInline() needs the code as a literal string');
    }
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(this.code)) {
      invalid(scope, 'source inline code', this.code.length > 40 ? `${this.code.slice(0, 40)}...` : this.code, 'must be valid Unicode (it holds a lone surrogate, which cannot be written as UTF-8)');
    }
    const bytes = Buffer.byteLength(this.code, 'utf8');
    if (bytes > MAX_INLINE_BYTES) {
      invalid(scope, 'source inline code bytes', bytes, `must be at most ${MAX_INLINE_BYTES}: use AppSource.fromAsset() for larger apps`);
    }
    if (typeof this.fileName !== 'string' || !/^[A-Za-z0-9._-]{1,255}$/.test(this.fileName) || /^\.{1,2}$/.test(this.fileName)) {
      invalid(scope, 'source file name', this.fileName, "must be a plain file name of letters, digits and . _ - (not '.' or '..')");
    }
    return {
      commands: writeFileCommands({ path: `${appDirectory}/${this.fileName}`, content: this.code, mode: '0644' }),
    };
  }
}
