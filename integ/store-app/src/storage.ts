import type { Readable } from 'stream';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

/** An object read from the bucket. */
export interface StoredObject {
  readonly body: Readable;
  readonly contentType?: string;
  readonly contentLength?: number;
  readonly etag?: string;
}

/** The app's view of its S3 bucket. */
export class ObjectStore {
  constructor(private readonly s3: S3Client, private readonly bucket: string) {}

  /** Reads an object; `undefined` when there is no such key. */
  public async get(key: string): Promise<StoredObject | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        body: out.Body as Readable,
        contentType: out.ContentType,
        contentLength: out.ContentLength,
        etag: out.ETag,
      };
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
      throw err;
    }
  }

  /** Writes an object. */
  public async put(key: string, body: Buffer, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  public destroy(): void {
    this.s3.destroy();
  }
}
