import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

/** AWS credentials of the IAM user or role allowed to read the notification queue. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Present for temporary (STS) credentials; sent (and signed) as `x-amz-security-token`. */
  sessionToken?: string;
}

export interface SignableRequest {
  method: string;
  /** `host[:port]` the request goes to; signed as the `host` header. */
  host: string;
  /** The path as it goes on the wire (already percent-encoded once), e.g. `new URL(...).pathname`. */
  path: string;
  /** The query string as it goes on the wire, without `?`; empty or absent for none. */
  query?: string;
  /** Headers that will be sent, names in any case (a `host` header here is replaced by `host` above). */
  headers: Readonly<Record<string, string>>;
  body: string;
  service: string;
  region: string;
}

export interface SigningOptions {
  /**
   * Normalise the path (`.`/`..`/empty segments) and percent-encode it once more for the canonical request, as every
   * service but S3 requires (AWS's signature test suite, the `normalize: true` cases). Default true; S3 signs the path
   * as sent.
   */
  normalizePath?: boolean;
  /** When the signature is made; default now. */
  signingDate?: Date;
  /** Also send and sign `x-amz-content-sha256` (S3 wants it; SQS does not). Default false. */
  signPayloadHash?: boolean;
}

const sha256 = Hash.bind(null, 'sha256');

/** Decodes one query component leniently: a stray `%` stays as it is rather than failing the whole request. */
const decodeComponent = (value: string): string => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

/** The query as the signer wants it (decoded keys and values; it encodes them itself). `+` is kept, not read as a space. */
const queryOf = (queryString: string | undefined): Record<string, string | string[]> => {
  const query: Record<string, string | string[]> = {};
  for (const pair of (queryString ?? '').split('&')) {
    if (pair.length === 0) continue;
    const at = pair.indexOf('=');
    const key = decodeComponent(at < 0 ? pair : pair.slice(0, at));
    const value = at < 0 ? '' : decodeComponent(pair.slice(at + 1));
    const previous = query[key];
    query[key] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return query;
};

/**
 * Signs `request` with AWS Signature Version 4 through AWS's own signer (`@smithy/signature-v4`, the one the AWS SDK
 * for JavaScript uses), checked against AWS's signature test suite. Returns the headers to add: `authorization`,
 * `x-amz-date` and, for temporary credentials, `x-amz-security-token`.
 */
export async function signAwsRequest(request: SignableRequest, credentials: AwsCredentials, options: SigningOptions = {}): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken },
    region: request.region,
    service: request.service,
    sha256,
    uriEscapePath: options.normalizePath ?? true,
    // SQS does not ask for x-amz-content-sha256 (an S3 header); the payload hash is in the canonical request anyway.
    applyChecksum: options.signPayloadHash ?? false,
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  headers.host = request.host;
  const signed = await signer.sign(
    {
      method: request.method.toUpperCase(),
      protocol: 'https:',
      hostname: request.host.replace(/:\d+$/, ''),
      path: request.path,
      query: queryOf(request.query),
      headers,
      body: request.body,
    },
    { signingDate: options.signingDate ?? new Date() },
  );
  const out: Record<string, string> = {};
  for (const name of ['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256']) {
    const value = signed.headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Parses a SigV4 `Authorization` header into its parts; undefined when it is not one. */
export function parseSigV4Authorization(value: string | undefined):
  | { accessKeyId: string; day: string; region: string; service: string; signedHeaders: string[]; signature: string }
  | undefined {
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(value ?? '');
  if (!match) return undefined;
  const [, accessKeyId, day, region, service, signedHeaders, signature] = match as unknown as [string, string, string, string, string, string, string];
  return { accessKeyId, day, region, service, signedHeaders: signedHeaders.split(';'), signature };
}

/** `YYYYMMDDTHHMMSSZ` (the `x-amz-date` form) as a Date; undefined when malformed. */
export function parseAmzDate(value: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const time = Date.parse(`${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}Z`);
  return Number.isFinite(time) ? new Date(time) : undefined;
}
