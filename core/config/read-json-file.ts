import { readFile } from 'node:fs/promises';
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { ConfigError, ErrorCodes } from '../internal.ts';

/**
 * Reads and parses a JSON file. Fails with a {@link ConfigError} (`SR_CONFIG_READ`) that names the file,
 * and for a syntax error the line and column, so the user can jump straight to it.
 */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${(err as Error).message})`;
    throw new ConfigError(`config file ${file} ${why}`, [], ErrorCodes.CONFIG_READ, { cause: err });
  }
  // Editors on some systems save a byte-order mark; JSON.parse refuses it.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const where = syntaxErrorLocation(text);
    throw new ConfigError(`config file ${file} is not valid JSON${where}: ${(err as Error).message}`, [], ErrorCodes.CONFIG_READ, { cause: err });
  }
}

/**
 * ` at line L, column C` (both from 1) of the first syntax error, and what was expected there; empty when it
 * cannot be placed. V8 names a position for some mistakes only (not for a trailing comma, the commonest one in
 * hand-edited config), so a tolerant parser that reports every error with its offset places it.
 */
export function syntaxErrorLocation(text: string): string {
  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (first === undefined) return '';
  const before = text.slice(0, first.offset);
  const line = before.split('\n').length;
  const column = first.offset - before.lastIndexOf('\n');
  return ` at line ${line}, column ${column} (${printParseErrorCode(first.error)})`;
}
