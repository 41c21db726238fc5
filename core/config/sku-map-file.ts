import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { Problem } from '../errors.ts';
import type { SkuMapFileRef } from './config-types.ts';
import { syntaxErrorLocation } from './read-json-file.ts';

/**
 * The connector options that hold a channel's SKU map (hub SKU → the channel's ids for it): `skus` for most
 * connectors, `listings` where the channel calls them listings (eBay, Amazon, Etsy). Only these may be
 * written as a {@link SkuMapFileRef}, so no other option that happens to hold a `file` key is ever read as one.
 */
export const SKU_MAP_OPTIONS: readonly string[] = Object.freeze(['skus', 'listings']);

/**
 * A reference to a mapping file is an object whose only key is `file`, holding a string. A SKU map itself
 * never looks like that: its values are objects (or, for Walmart, SKU strings under a SKU key), and a SKU
 * named `file` mapped to a string would be the only clash, which is why only the SKU map options are looked at.
 */
export function isSkuMapFileRef(value: unknown): value is SkuMapFileRef {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === 'file' && typeof (value as SkuMapFileRef).file === 'string';
}

/** One reference that was read: where it sits in the config and the file it named. */
export interface InlinedSkuMap {
  /** JSON pointer of the option, e.g. `/channels/0/options/skus`. */
  path: string;
  channelId: string | undefined;
  option: string;
  /** The reference as written (relative to the config's folder, or absolute). */
  file: string;
  /** The file's absolute path. */
  resolved: string;
}

export interface InlineOptions {
  /**
   * The channel whose mapping file may be missing: it reads as an empty map (`stockrelay import`, about to
   * write it). Every other missing file is a problem.
   */
  mayBeMissing?: string;
}

/**
 * Returns a copy of the parsed config `raw` with every SKU map written as `{"file": "<path>"}` replaced by the
 * contents of that file (a JSON object, SKU → mapping), the path read relative to `configDir`. A file that is
 * missing, not JSON or not an object is a problem naming the reference's field (`…/options/skus/file`), and
 * the option is left as an empty map so the rest of the config can still be checked.
 */
export async function inlineSkuMapFiles(
  raw: unknown,
  configDir: string,
  options: InlineOptions = {},
): Promise<{ raw: unknown; problems: Problem[]; inlined: InlinedSkuMap[] }> {
  const problems: Problem[] = [];
  const inlined: InlinedSkuMap[] = [];
  if (!isRecord(raw) || !Array.isArray(raw.channels)) return { raw, problems, inlined };
  const channels = await Promise.all(
    raw.channels.map(async (channel: unknown, i: number) => {
      if (!isRecord(channel) || !isRecord(channel.options)) return channel;
      const channelOptions = { ...channel.options };
      for (const option of SKU_MAP_OPTIONS) {
        const ref = channelOptions[option];
        if (!isSkuMapFileRef(ref)) continue;
        const path = `/channels/${i}/options/${option}`;
        const resolved = resolveSkuMapFile(configDir, ref.file);
        const read = await readSkuMapFile(resolved, ref.file);
        const missingIsFine = !read.ok && read.missing && options.mayBeMissing !== undefined && options.mayBeMissing === channel.id;
        if (read.ok || missingIsFine) {
          channelOptions[option] = read.ok ? read.map : {};
          inlined.push({ path, channelId: typeof channel.id === 'string' ? channel.id : undefined, option, file: ref.file, resolved });
        } else {
          channelOptions[option] = {};
          problems.push({ path: `${path}/file`, message: read.message });
        }
      }
      return { ...channel, options: channelOptions };
    }),
  );
  return { raw: { ...raw, channels }, problems, inlined };
}

/** The absolute path of a mapping file named in a config in `configDir`. */
export function resolveSkuMapFile(configDir: string, file: string): string {
  return isAbsolute(file) ? file : resolve(configDir, file);
}

type SkuMapRead = { ok: true; map: Record<string, unknown> } | { ok: false; message: string; missing: boolean };

/** Reads one mapping file; `given` is the path as the config wrote it, for messages. */
export async function readSkuMapFile(resolved: string, given: string): Promise<SkuMapRead> {
  if (given.trim() === '') return { ok: false, missing: false, message: 'must name a mapping file (a path relative to the config file)' };
  const named = given === resolved ? `mapping file ${given}` : `mapping file ${given} (${resolved})`;
  let text: string;
  try {
    text = await readFile(resolved, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, missing: code === 'ENOENT', message: `${named} ${code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${(err as Error).message})`}` };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (err) {
    return { ok: false, missing: false, message: `${named} is not valid JSON${syntaxErrorLocation(text)}: ${(err as Error).message}` };
  }
  if (!isRecord(parsed)) return { ok: false, missing: false, message: `${named} must hold one JSON object, SKU → the channel's ids for it` };
  return { ok: true, map: parsed };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
