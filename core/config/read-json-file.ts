import { readFile } from 'node:fs/promises';
import { ConfigError, ErrorCodes } from '../errors.ts';

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
    const where = syntaxErrorLocation(text, (err as Error).message);
    throw new ConfigError(`config file ${file} is not valid JSON${where}: ${(err as Error).message}`, [], ErrorCodes.CONFIG_READ, { cause: err });
  }
}

/** ` at line L, column C` from V8's `... at position N` message; empty when it gives no position. */
export function syntaxErrorLocation(text: string, message: string): string {
  const lineCol = /line (\d+) column (\d+)/.exec(message);
  if (lineCol) return ` at line ${lineCol[1]}, column ${lineCol[2]}`;
  const position = /position (\d+)/.exec(message);
  if (position) {
    const offset = Number(position[1]);
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    return ` at line ${line}, column ${column}`;
  }
  if (/end of JSON input/i.test(message)) {
    const lines = text.split('\n');
    return ` at line ${lines.length}, column ${(lines.at(-1) ?? '').length + 1}`;
  }
  return '';
}
