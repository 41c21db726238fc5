import { describe, expect, it } from 'vitest';
import sandbox from '../../connectors/sandbox/index.ts';
import { CHECK_NAMES, type ConformanceReport } from '../../core/tooling/conformance/conformance-report.ts';
import { runConformance } from '../../core/tooling/conformance/run-conformance.ts';
import { defineConnector, RejectedError, type ConnectorDefinition, type SimulatorOptions } from '../../core/sdk.ts';

const strict = { simulator: { strictListing: true } as SimulatorOptions };

/**
 * The sandbox connector, but reporting a failed push with a session credential it derived from its
 * token, as a connector that quotes its own request in errors would; `register` says whether it tells
 * the host about that credential.
 */
function derivingConnector(register: boolean): ConnectorDefinition {
  const base = sandbox as unknown as ConnectorDefinition;
  return defineConnector({
    ...base,
    name: register ? 'registers-derived' : 'leaks-derived',
    async create(options, context) {
      const inner = await base.create(options, context);
      const session = Buffer.from(`session:${String(options.token)}`).toString('hex');
      if (register) context.registerSecret(session);
      return {
        ...inner,
        async push(updates, signal) {
          try {
            return await inner.push(updates, signal);
          } catch (err) {
            throw new RejectedError(`push failed; request headers {"x-session-token":"${session}"}`, { cause: err });
          }
        },
      };
    },
  });
}

const check = (report: ConformanceReport) => report.checks.find((c) => c.name === CHECK_NAMES.echoErrors)!;

describe('conformance: the echo-errors fault', () => {
  it('fails a connector whose error shows a credential it derived and never registered, without printing it whole', async () => {
    const report = await runConformance(derivingConnector(false), strict);
    const result = check(report);
    expect(result.status).toBe('fail');
    expect(result.detail).toMatch(/x-session-token .*context\.registerSecret/);
    expect(result.detail).not.toContain(Buffer.from('session:sandbox-token').toString('hex'));
  });

  it('passes the same connector once it registers that credential with the host', async () => {
    expect(check(await runConformance(derivingConnector(true), strict)).status).toBe('pass');
  });
});
