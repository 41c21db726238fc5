import type { Problem } from '../errors.ts';

/** One line per problem, `  <path>: <message>`, in the order found. */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
}
