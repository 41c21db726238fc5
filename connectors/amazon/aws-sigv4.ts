import { createHash, createHmac } from 'node:crypto';

/** AWS credentials of the IAM user or role allowed to read the notification queue. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Present for temporary (STS) credentials; sent as `x-amz-security-token`. */
  sessionToken?: string;
}

export interface SignableRequest {
  method: string;
  url: URL;
  /** Headers that will be sent, names in any case; `host` is taken from `url`. */
  headers: Readonly<Record<string, string>>;
  body: string;
  service: string;
  region: string;
}

const sha256Hex = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding, which AWS requires and `encodeURIComponent` misses for `!'()*`. */
const rfc3986 = (value: string): string => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const amzDate = (date: Date): string => date.toISOString().replace(/[:-]/g, '').replace(/\.\d{3}/, '');

/**
 * The Signature Version 4 signature of a request whose `x-amz-date` and signed header names are already fixed;
 * shared by the signer and by the simulator that verifies, so both compute the same canonical request.
 */
export function sigV4Signature(request: SignableRequest, secretAccessKey: string, xAmzDate: string, signedHeaderNames: readonly string[]): string {
  const lower = new Map(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]));
  lower.set('host', request.url.host);
  lower.set('x-amz-date', xAmzDate);
  const names = [...signedHeaderNames].map((n) => n.toLowerCase()).sort();
  const canonicalHeaders = names.map((name) => `${name}:${(lower.get(name) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const query = [...request.url.searchParams]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const path = request.url.pathname
    .split('/')
    .map((segment) => rfc3986(decodeURIComponent(segment)))
    .join('/');
  const canonicalRequest = [request.method.toUpperCase(), path || '/', query, canonicalHeaders, names.join(';'), sha256Hex(request.body)].join('\n');
  const day = xAmzDate.slice(0, 8);
  const scope = `${day}/${request.region}/${request.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', xAmzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), request.region), request.service), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

/** The headers that sign `request` with SigV4 (`authorization`, `x-amz-date`, and the session token when there is one). */
export function signAwsRequest(request: SignableRequest, credentials: AwsCredentials, now: Date = new Date()): Record<string, string> {
  const xAmzDate = amzDate(now);
  const extra: Record<string, string> = { 'x-amz-date': xAmzDate };
  if (credentials.sessionToken) extra['x-amz-security-token'] = credentials.sessionToken;
  const headers = { ...request.headers, ...extra };
  const signedHeaderNames = [...new Set(['host', ...Object.keys(headers).map((n) => n.toLowerCase())])].sort();
  const signature = sigV4Signature({ ...request, headers }, credentials.secretAccessKey, xAmzDate, signedHeaderNames);
  const scope = `${xAmzDate.slice(0, 8)}/${request.region}/${request.service}/aws4_request`;
  return {
    ...extra,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaderNames.join(';')}, Signature=${signature}`,
  };
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
