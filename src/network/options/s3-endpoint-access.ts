/**
 * What a bucket allowed through the restricted S3 gateway endpoint may be used for.
 */
export enum S3EndpointAccess {
  /** `s3:GetObject` on its objects and `s3:ListBucket`. */
  READ = 'read',
  /** `s3:GetObject`, `s3:PutObject` and `s3:DeleteObject` on its objects and `s3:ListBucket`. */
  READ_WRITE = 'read-write',
}
