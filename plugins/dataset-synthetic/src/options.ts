import { OdemorError, z } from '@odemor/core';

/** The kinds of synthetic task. */
export const KINDS = ['circles', 'spirals', 'blobs', 'sequence'] as const;
export type SyntheticKind = (typeof KINDS)[number];

/** Fully resolved, validated options of a synthetic dataset. */
export interface SyntheticOptions {
  kind: SyntheticKind;
  /** number of training samples */
  train: number;
  /** number of test samples */
  test: number;
  /** standard deviation of the Gaussian noise added to every coordinate / time step */
  noise: number;
  numClasses: number;
  /** ambient dimension of vector kinds (the 2-D data is embedded by a seeded orthogonal map) */
  dim: number;
  /** sequence kind: time steps per sample */
  steps: number;
  /** sequence kind: channels per time step */
  features: number;
  /** standard deviation of the jitter that `augment: true` adds (vector kinds) */
  jitter: number;
  seed: number;
}

/** `seed` and `baseDir` (the config's folder; synthetic data reads no files) are set by core */
const COMMON_KEYS = ['kind', 'train', 'test', 'noise', 'classes', 'seed', 'baseDir', 'name'] as const;
const VECTOR_KEYS = ['dim', 'jitter'] as const;
const SEQUENCE_KEYS = ['steps', 'features'] as const;

/** Default noise level per kind. */
export const DEFAULT_NOISE: Record<SyntheticKind, number> = { circles: 0.05, spirals: 0.05, blobs: 0.1, sequence: 0.1 };
/** Default number of classes per kind. */
export const DEFAULT_CLASSES: Record<SyntheticKind, number> = { circles: 2, spirals: 3, blobs: 3, sequence: 3 };

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function fail(key: string, what: string, v: unknown): never {
  throw new OdemorError('CONFIG', `dataset.${key} must be ${what}, got ${show(v)}`);
}

function intOpt(o: Record<string, unknown>, key: string, def: number, min: number): number {
  const v = o[key];
  if (v === undefined) return def;
  const what = min === 1 ? 'a positive integer' : `an integer ≥ ${min}`;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(key, what, v);
  return v;
}

function numOpt(o: Record<string, unknown>, key: string, def: number): number {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(key, 'a finite number ≥ 0', v);
  return v;
}

/**
 * Validate raw options (the `dataset:` section of a config plus `seed`) and fill in defaults.
 *
 * @param raw options as given to the factory
 * @param fixedKind the kind fixed by an alias (`circles`, `spirals`, `sequence`); a conflicting `kind`
 *   option is an error
 * @throws OdemorError `CONFIG` naming the key and the value at fault
 */
export function resolveOptions(raw: Record<string, unknown>, fixedKind?: SyntheticKind): SyntheticOptions {
  if (raw === null || typeof raw !== 'object') throw new OdemorError('CONFIG', `dataset options must be an object, got ${show(raw)}`);
  const o = raw;
  let kind: SyntheticKind;
  if (o.kind === undefined) kind = fixedKind ?? 'spirals';
  else {
    if (typeof o.kind !== 'string' || !(KINDS as readonly string[]).includes(o.kind)) {
      throw new OdemorError('CONFIG', `dataset.kind must be one of ${KINDS.join(', ')}; got ${show(o.kind)}`);
    }
    kind = o.kind as SyntheticKind;
    if (fixedKind !== undefined && kind !== fixedKind) {
      throw new OdemorError('CONFIG', `dataset.kind is ${show(kind)} but dataset '${fixedKind}' fixes the kind to '${fixedKind}'`);
    }
  }

  const isSeq = kind === 'sequence';
  const allowed: readonly string[] = [...COMMON_KEYS, ...(isSeq ? SEQUENCE_KEYS : VECTOR_KEYS)];
  for (const key of Object.keys(o)) {
    if (allowed.includes(key) || o[key] === undefined) continue;
    if (isSeq && (VECTOR_KEYS as readonly string[]).includes(key)) {
      throw new OdemorError('CONFIG', `dataset.${key} applies to vector kinds (circles, spirals, blobs) only, not to 'sequence'`);
    }
    if (!isSeq && (SEQUENCE_KEYS as readonly string[]).includes(key)) {
      throw new OdemorError('CONFIG', `dataset.${key} applies to kind 'sequence' only, not to '${kind}'`);
    }
    throw new OdemorError('CONFIG', `unknown option dataset.${key}; known options for '${kind}': ${allowed.filter((k) => k !== 'name' && k !== 'baseDir').join(', ')}`);
  }

  const seedRaw = o.seed ?? 0;
  if (typeof seedRaw !== 'number' || !Number.isSafeInteger(seedRaw)) fail('seed', 'an integer', seedRaw);

  const train = intOpt(o, 'train', 2000, 1);
  const test = intOpt(o, 'test', 1000, 1);
  const noise = numOpt(o, 'noise', DEFAULT_NOISE[kind]);
  const numClasses = intOpt(o, 'classes', DEFAULT_CLASSES[kind], 2);
  const dim = isSeq ? 0 : intOpt(o, 'dim', 2, 2);
  const steps = isSeq ? intOpt(o, 'steps', 20, 4) : 0;
  const features = isSeq ? intOpt(o, 'features', 1, 1) : 0;
  const jitter = isSeq ? 0 : numOpt(o, 'jitter', noise / 2);
  if (isSeq && 2 * numClasses + 1 > steps) {
    // class c oscillates at about c+1 cycles per window; keep the highest frequency below Nyquist
    throw new OdemorError(
      'CONFIG',
      `dataset.classes must be at most ${Math.floor((steps - 1) / 2)} for steps ${steps} (the highest class frequency must stay below the Nyquist limit), got ${numClasses}`,
    );
  }
  return { kind, train, test, noise, numClasses, dim, steps, features, jitter, seed: seedRaw };
}

/**
 * The option schema of a synthetic dataset (the `dataset:` keys besides `use`, plus the `seed` and `baseDir`
 * core passes), declared with `ctx.provide` so that a config is checked before any work. It states the same
 * rules as {@link resolveOptions}: the keys of the kind, the ranges, a kind an alias fixes, and the
 * Nyquist limit of the sequence kind.
 *
 * @param fixedKind the kind fixed by an alias (`circles`, `spirals`, `sequence`)
 */
export function syntheticOptionsSchema(fixedKind?: SyntheticKind) {
  const int = (min: number) => z.number().int().min(min).optional();
  const nonNegative = z.number().min(0).optional();
  return z
    .strictObject({
      kind: z.enum(KINDS).optional(),
      /** number of training samples (default 2000) */
      train: int(1),
      /** number of test samples (default 1000) */
      test: int(1),
      /** Gaussian noise per coordinate / time step (default per kind) */
      noise: nonNegative,
      /** number of classes (default per kind) */
      classes: int(2),
      /** vector kinds: ambient dimension (default 2) */
      dim: int(2),
      /** vector kinds: jitter of `augment: true` (default noise / 2) */
      jitter: nonNegative,
      /** sequence kind: time steps per sample (default 20) */
      steps: int(4),
      /** sequence kind: channels per step (default 1) */
      features: int(1),
      /** set by core from the config's seed */
      seed: z.number().int().optional(),
      /** set by core: the config's folder (synthetic data reads no files) */
      baseDir: z.string().optional(),
      name: z.string().optional(),
    })
    .superRefine((o, ctx) => {
      const kind = o.kind ?? fixedKind ?? 'spirals';
      if (fixedKind !== undefined && kind !== fixedKind) {
        ctx.addIssue({ code: 'custom', path: ['kind'], message: `dataset '${fixedKind}' fixes the kind to '${fixedKind}'` });
        return;
      }
      const isSeq = kind === 'sequence';
      for (const key of isSeq ? VECTOR_KEYS : SEQUENCE_KEYS) {
        if (o[key] === undefined) continue;
        const message = isSeq ? `applies to vector kinds (circles, spirals, blobs) only, not to 'sequence'` : `applies to kind 'sequence' only, not to '${kind}'`;
        ctx.addIssue({ code: 'custom', path: [key], message });
      }
      const classes = o.classes ?? DEFAULT_CLASSES[kind];
      const steps = o.steps ?? 20;
      if (isSeq && 2 * classes + 1 > steps) {
        ctx.addIssue({
          code: 'custom',
          path: ['classes'],
          message: `must be at most ${Math.floor((steps - 1) / 2)} for steps ${steps} (the highest class frequency must stay below the Nyquist limit)`,
        });
      }
    });
}
