import fs from 'node:fs';
import { parse } from 'yaml';
import { OdemorError } from '../errors.js';
import type { TensorNameMap } from './torch.js';

/**
 * Parse a tensor name map (docs/import.md#map): a YAML mapping from the names in a weights file to the names of
 * the model's convention, `~` (null) to ignore a tensor of the file:
 * ```yaml
 * features.0.weight: downsample.0.weight
 * head.weight: fc.weight
 * features.0.num_batches_tracked: ~
 * ```
 * @throws OdemorError 'ARGUMENT' naming `source` (and the key): broken YAML, not a mapping, a value that is not a
 *   name or null
 */
export function parseTensorNameMap(text: string, source: string): TensorNameMap {
  let raw: unknown;
  try {
    raw = parse(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (e) {
    throw new OdemorError('ARGUMENT', `${source}: malformed YAML (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
  if (raw === null || raw === undefined) return new Map();
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new OdemorError('ARGUMENT', `${source}: a tensor name map is a YAML mapping 'name in the file: name of the convention'`);
  const out = new Map<string, string | null>();
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (v !== null && (typeof v !== 'string' || v === '')) throw new OdemorError('ARGUMENT', `${source}: ${k}: expected a tensor name of the convention or ~ (ignore), got ${JSON.stringify(v)}`);
    out.set(k, v as string | null);
  }
  return out;
}

/** Read a tensor name map file ({@link parseTensorNameMap}); 'IO' when it cannot be read. */
export function readTensorNameMap(file: string): TensorNameMap {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new OdemorError('IO', `${file}: cannot read the tensor name map (${(e as Error).message})`, { cause: e });
  }
  return parseTensorNameMap(text, file);
}
