import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signAwsRequest, type SignableRequest } from '../../connectors/amazon/aws-sigv4.ts';

/**
 * AWS's own Signature Version 4 test suites (test/fixtures/vendor/amazon/SOURCE): the original suite of the AWS
 * documentation, and the maintained one of aws-c-auth, whose `normalize` flag separates the cases of every service
 * but S3 (path normalised and encoded once more) from S3's (path signed as sent).
 */
interface SuiteCase {
  name: string;
  request: string;
  canonicalRequest: string;
  stringToSign: string;
  /** Original suite: the expected Authorization header. */
  authorization?: string;
  /** aws-c-auth suite: the expected signature, and the case's context. */
  signature?: string;
  normalize?: boolean;
  signBody?: boolean;
  omitSessionToken?: boolean;
  sessionToken?: string;
}

interface Suite {
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  service: string;
  timestamp: string;
  suites: Record<'aws-sig-v4-test-suite' | 'aws-c-auth-v4', SuiteCase[]>;
}

const suite = JSON.parse(readFileSync(new URL('../fixtures/vendor/amazon/sigv4-test-suite.json', import.meta.url), 'utf8')) as Suite;
const signingDate = new Date(suite.timestamp);

interface ParsedRequest {
  method: string;
  path: string;
  query: string;
  headers: Array<[string, string]>;
  body: string;
}

/**
 * Reads the suite's request files: request line, headers (a line starting with blanks continues the previous
 * header; `fold` is how the suite joins such lines), blank line, body.
 */
function parseRequest(text: string, fold: string): ParsedRequest {
  const [head = '', body = ''] = text.split(/\n\n/, 2) as [string?, string?];
  const [requestLine = '', ...headerLines] = head.split('\n');
  const match = /^(\S+) (.*) HTTP\/1\.1$/.exec(requestLine);
  if (!match) throw new Error(`bad request line: ${requestLine}`);
  const uri = match[2] as string;
  const at = uri.indexOf('?');
  const headers: Array<[string, string]> = [];
  for (const line of headerLines) {
    if (line.length === 0) continue;
    if (/^\s/.test(line) && headers.length > 0) {
      const last = headers[headers.length - 1] as [string, string];
      last[1] = `${last[1]}${fold}${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return { method: match[1] as string, path: at < 0 ? uri : uri.slice(0, at), query: at < 0 ? '' : uri.slice(at + 1), headers, body };
}

/** Repeated headers become one comma-joined value, as HTTP allows and SigV4 canonicalises them. */
function headerRecord(headers: Array<[string, string]>, leaveOut: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    if (leaveOut.includes(key)) continue;
    out[key] = out[key] === undefined ? value : `${out[key]},${value}`;
  }
  return out;
}

const hostOf = (parsed: ParsedRequest): string => parsed.headers.find(([name]) => name.toLowerCase() === 'host')?.[1] ?? '';

/** What an HTTP client puts on the wire for a path holding raw characters (a space, UTF-8): each such byte %-encoded. */
const onTheWire = (path: string): string => path.replace(/[^A-Za-z0-9\-._~/%!$&'()*+,;=:@]/gu, (c) => encodeURIComponent(c));

/** The signing-key derivation AWS documents, applied to a string to sign of the suite (its date, region and service). */
function signString(stringToSign: string): string {
  const key = ['20150830', suite.region, suite.service, 'aws4_request'].reduce<Buffer | string>(
    (k, part) => createHmac('sha256', k).update(part).digest(),
    `AWS4${suite.credentials.secretAccessKey}`,
  );
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

const signatureOf = (authorization: string | undefined): string | undefined => /Signature=([0-9a-f]{64})$/.exec(authorization ?? '')?.[1];

describe('AWS Signature Version 4 against AWS\'s test suites', () => {
  const original = suite.suites['aws-sig-v4-test-suite'];
  const maintained = suite.suites['aws-c-auth-v4'];

  it('holds every case of both suites (31 + 38)', () => {
    expect(original).toHaveLength(31);
    expect(maintained).toHaveLength(38);
  });

  /** A case whose own files agree: its string to sign holds the hash of its canonical request. */
  const consistent = (c: SuiteCase): boolean =>
    c.stringToSign.trim().split('\n').pop() === createHash('sha256').update(c.canonicalRequest.trim()).digest('hex');

  it('finds the original suite consistent except its two form cases, which the maintained suite covers', () => {
    // Their .creq, .sts and .authz were made from different requests (charset=utf8 vs utf-8, Content-Length signed
    // or not); aws-c-auth's suite has corrected versions of both, run below.
    expect(original.filter((c) => !consistent(c)).map((c) => c.name).sort()).toEqual(['post-x-www-form-urlencoded', 'post-x-www-form-urlencoded-parameters']);
    expect(maintained.map((c) => c.name)).toEqual(expect.arrayContaining(['post-x-www-form-urlencoded', 'post-x-www-form-urlencoded-parameters']));
  });

  it.each(original.filter(consistent).map((c) => [c.name, c] as const))('original suite: %s', async (_name, c) => {
    const parsed = parseRequest(c.request, ',');
    // post-sts-header-before signs the session token; the signer adds it from the credentials.
    const token = parsed.headers.find(([name]) => name.toLowerCase() === 'x-amz-security-token')?.[1];
    const request: SignableRequest = {
      method: parsed.method,
      host: hostOf(parsed),
      path: parsed.path,
      query: parsed.query,
      headers: headerRecord(parsed.headers, ['x-amz-date', 'x-amz-security-token']),
      body: parsed.body,
      service: suite.service,
      region: suite.region,
    };
    const signed = await signAwsRequest(request, { ...suite.credentials, sessionToken: token }, { signingDate });
    expect(signed.authorization).toBe(c.authorization?.trim());
    expect(signatureOf(signed.authorization)).toBe(signString(c.stringToSign.trim()));
  });

  it.each(maintained.map((c) => [c.name, c] as const))('aws-c-auth suite: %s', async (_name, c) => {
    const parsed = parseRequest(c.request, ' ');
    const request: SignableRequest = {
      method: parsed.method,
      host: hostOf(parsed),
      // S3-style cases sign the path exactly as sent, so it has to be in its wire form already.
      path: c.normalize ? parsed.path : onTheWire(parsed.path),
      query: parsed.query,
      headers: headerRecord(parsed.headers, []),
      body: parsed.body,
      service: suite.service,
      region: suite.region,
    };
    const token = c.omitSessionToken ? undefined : c.sessionToken;
    const signed = await signAwsRequest(request, { ...suite.credentials, sessionToken: token }, { signingDate, normalizePath: c.normalize, signPayloadHash: c.signBody });
    expect(signatureOf(signed.authorization)).toBe(c.signature);
  });

  it('encodes an already escaped path once more, as AWS requires of every service but S3 (a queue URL with %XX)', async () => {
    // The oracle: the suite's own canonical request for get-vanilla with the path replaced by the escaped one encoded
    // twice, hashed and signed by the derivation AWS documents.
    const vanilla = maintained.find((c) => c.name === 'get-vanilla') as SuiteCase;
    const lines = vanilla.canonicalRequest.split('\n');
    lines[1] = '/123456789012/order%2520change';
    const canonical = lines.join('\n');
    const stringToSign = ['AWS4-HMAC-SHA256', '20150830T123600Z', '20150830/us-east-1/service/aws4_request', createHash('sha256').update(canonical).digest('hex')].join('\n');
    const expected = signString(stringToSign);

    const url = new URL('https://example.amazonaws.com/123456789012/order%20change');
    const signed = await signAwsRequest(
      { method: 'GET', host: url.host, path: url.pathname, headers: {}, body: '', service: 'service', region: 'us-east-1' },
      suite.credentials,
      { signingDate },
    );
    expect(signatureOf(signed.authorization)).toBe(expected);
  });
});
