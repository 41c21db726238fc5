import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, relative, sep } from 'node:path';
import { applyEdits, findNodeAtLocation, modify, parseTree, type FormattingOptions } from 'jsonc-parser';
import { ConfigError, ErrorCodes } from '../internal.ts';

/** Where a channel's SKU map goes: into the config itself, or into a mapping file the config references. */
export type MapTarget =
  | { kind: 'config'; configFile: string }
  | { kind: 'file'; configFile: string; file: string; /** True when the config must be changed to reference the file. */ reference: boolean };

/**
 * Writes `map` as channel `channelIndex`'s `options.<option>`. Into the config, it is an edit of that one
 * value (jsonc-parser's edit API), so the rest of the file (order, indentation, comments) stays as the seller
 * wrote it. Into a mapping file, the file is written whole, and the config gets `{"file": "<path relative to
 * the config>"}` when it does not reference it yet. Each file is written to a temporary file and renamed over,
 * so an interrupted import never leaves half a file.
 */
export async function writeSkuMap(target: MapTarget, channelIndex: number, option: string, map: Readonly<Record<string, unknown>>): Promise<void> {
  const sorted = sortedMap(map);
  if (target.kind === 'file') {
    await mkdir(dirname(target.file), { recursive: true });
    await writeAtomically(target.file, `${JSON.stringify(sorted, null, 2)}\n`);
    if (!target.reference) return;
    const file = relative(dirname(target.configFile), target.file).split(sep).join('/');
    await editConfig(target.configFile, ['channels', channelIndex, 'options', option], { file: file.startsWith('.') ? file : `./${file}` });
    return;
  }
  await editConfig(target.configFile, ['channels', channelIndex, 'options', option], sorted);
}

async function editConfig(configFile: string, path: Array<string | number>, value: unknown): Promise<void> {
  const text = await readFile(configFile, 'utf8');
  const tree = parseTree(text, [], { allowTrailingComma: true });
  if (!tree || !findNodeAtLocation(tree, path.slice(0, 2))) {
    throw new ConfigError(`config file ${configFile} changed while the import ran: /${path.slice(0, 2).join('/')} is gone; nothing was written to it`, [], ErrorCodes.CONFIG_READ);
  }
  const edits = modify(text, path, value, { formattingOptions: formattingOf(text) });
  await writeAtomically(configFile, applyEdits(text, edits));
}

/** The indentation the file already uses, so the edited value looks like the rest of it. */
function formattingOf(text: string): FormattingOptions {
  const indent = /\n([ \t]+)\S/.exec(text)?.[1] ?? '  ';
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return indent.startsWith('\t') ? { insertSpaces: false, tabSize: 1, eol } : { insertSpaces: true, tabSize: indent.length, eol };
}

function sortedMap(map: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const sku of Object.keys(map).sort()) out[sku] = map[sku];
  return out;
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, 'utf8');
  await rename(temporary, file);
}
