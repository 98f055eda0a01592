import { describe, expect, it } from 'vitest';
import { OdemorError } from '../src/errors.js';
import { denseNode } from '../src/model/builtin.js';
import { listTensors, paramSelector } from '../src/model/params.js';

const model = denseNode({ hidden: 4 }, { dataset: { inputShape: [2], kind: 'vector', numClasses: 3, trainSize: 1, testSize: 1 }, seed: 1, solver: { use: 'rk4', dt: 0.1, t0: 0, t1: 1 } });
const paths = listTensors(model).map((t) => t.path);
const picked = (sel: Parameters<typeof paramSelector>[1], m = model) => listTensors(m).map((t) => t.path).filter(paramSelector(m, sel));

describe('paramSelector: which IR paths train', () => {
  it('names the parts of a model', () => {
    expect(picked('all')).toEqual(paths);
    expect(picked('block')).toEqual(paths.filter((p) => p.startsWith('block.')));
    expect(picked('after-block')).toEqual(paths.filter((p) => p.startsWith('post.')));
    expect(picked('before-block')).toEqual(paths.filter((p) => p.startsWith('pre.')));
    expect(picked('block').length).toBeGreaterThan(0);
    expect(picked('after-block').length).toBeGreaterThan(0);
  });

  it('takes a list of exact paths and prefixes ending in a dot', () => {
    const one = paths.find((p) => p.startsWith('block.'))!;
    expect(picked([one])).toEqual([one]);
    expect(picked([one, 'post.'])).toEqual([one, ...paths.filter((p) => p.startsWith('post.'))]);
  });

  it('never trains a layer marked trainable: false', () => {
    const frozen = { ...model, post: model.post.map((l, i) => (i === 0 ? { ...l, trainable: false } : l)) };
    expect(picked('all', frozen).some((p) => p.startsWith('post.0.'))).toBe(false);
    expect(picked(['post.'], frozen).some((p) => p.startsWith('post.0.'))).toBe(false);
  });

  it('names an entry that matches no tensor, and an unknown selection', () => {
    expect(() => paramSelector(model, ['block.Q'])).toThrow(OdemorError);
    expect(() => paramSelector(model, ['block.Q'])).toThrow(/'block.Q' names no tensor/);
    expect(() => paramSelector(model, 'middle' as never)).toThrow(/unknown selection 'middle'/);
  });
});
