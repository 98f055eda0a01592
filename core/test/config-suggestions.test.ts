import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, knownKeys, parseConfig, suggest } from '../src/config/load.js';
import { configSchema } from '../src/config/schema.js';

const base = `dataset: { use: spirals }
model: { use: dense-node }
`;

function problems(yaml: string) {
  try {
    parseConfig(yaml, 'exp.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('unknown core keys get a suggestion', () => {
  it('evaluate.repeatz → repeats, with line and caret', () => {
    const e = problems(base + 'evaluate: { repeatz: 3 }\n');
    expect(e.problems).toEqual([
      {
        key: 'evaluate',
        message: "unknown key 'repeatz' in evaluate; did you mean 'repeats'?",
        line: 3,
        column: 13,
        excerpt: '     3 | evaluate: { repeatz: 3 }\n                     ^',
      },
    ]);
    expect(e.message).toContain("exp.yaml:3:13: evaluate: unknown key 'repeatz' in evaluate; did you mean 'repeats'?");
  });

  it('at the top level, through unions (train) and in nested objects', () => {
    expect(problems(base + 'evaluat: { repeats: 1 }\n').problems[0]!.message).toBe("unknown key 'evaluat' in the top level; did you mean 'evaluate'?");
    expect(problems(base + 'train: { epochz: 2 }\n').problems[0]!.message).toBe("unknown key 'epochz' in train; did you mean 'epochs'?");
    // (model.solver is loose: its unknown keys are the solver plugin's to check, see config-plugin-options.test.ts)
    expect(problems(base + 'output: { saveModel: true }\n').problems[0]!.message).toBe("unknown key 'saveModel' in output; did you mean 'saveModels'?");
  });

  it('one problem per unknown key, each at its own line; far-off keys list the known ones', () => {
    const e = problems(base + 'evaluate:\n  repeatz: 3\n  colour: red\n');
    expect(e.problems.map((p) => [p.line, p.message])).toEqual([
      [4, "unknown key 'repeatz' in evaluate; did you mean 'repeats'?"],
      [5, "unknown key 'colour' in evaluate; known: use, runtime, repeats, topk, batch, limit, timingLimit, threads, timing, adaptive"],
    ]);
  });
});

describe('suggest and knownKeys', () => {
  it('suggests only a close key', () => {
    expect(suggest('clases', ['classes', 'train'])).toBe("; did you mean 'classes'?");
    expect(suggest('hiddn', ['hidden', 'scale'])).toBe("; did you mean 'hidden'?");
    expect(suggest('xyz', ['hidden', 'scale'])).toBe('; known: hidden, scale');
    expect(suggest('x', [])).toBe('');
  });

  it('finds the keys of the object at a path through wrappers, arrays and unions', () => {
    expect(knownKeys(configSchema, ['evaluate'])).toEqual(['use', 'runtime', 'repeats', 'topk', 'batch', 'limit', 'timingLimit', 'threads', 'timing', 'adaptive']);
    expect(knownKeys(configSchema, ['reducers', 0])).toEqual(['use', 'dims', 'points', 'energy']);
    expect(knownKeys(configSchema, ['snapshots'])).toEqual(['use', 'every', 'limit', 'batch']);
    expect(knownKeys(configSchema, ['train'])).toContain('epochs');
    expect(knownKeys(configSchema, ['seed'])).toBeUndefined();
    const s = z.strictObject({ a: z.strictObject({ b: z.number() }).optional(), c: z.array(z.strictObject({ d: z.string() })) }).refine(() => true);
    expect(knownKeys(s, [])).toEqual(['a', 'c']);
    expect(knownKeys(s, ['a'])).toEqual(['b']);
    expect(knownKeys(s, ['c', 2])).toEqual(['d']);
  });
});
