/**
 * Stage 'originals': evaluate the trained model, the baseline of every speedup. A convolutional block is
 * timed as the paper does, in its dense Toeplitz form (the baseline of `speedup`), and as the convolution
 * itself (the honest baseline, `speedupVsConv`); both rows are published once both times are known.
 * With paired timing the baseline's executable stays open for the rest of the run (on `--resume` it is built
 * again from the model), so every later model is timed beside it (see `evaluateModel`).
 */
import type { ModelIR } from '../../ir/types.js';
import { denseA, toTensor32 } from '../../reduce/index.js';
import { buildFor, evaluateModel, publishRow } from '../evaluate.js';
import type { Stage } from '../state.js';

export const originalsStage: Stage = {
  name: 'originals',
  async run(state) {
    // a solver comparison evaluates each entry's trained model (stage 'compare'); its first entry is the baseline
    if (state.config.compare) return;
    const model = state.model;
    const n = model.block.n;
    const isConv = model.block.kind === 'ode' && model.block.A.type === 'conv';
    // the baseline of `speedup`: a conv block in its dense Toeplitz form (the paper's), else the model itself
    const toeplitz = (): ModelIR =>
      model.block.kind === 'ode' ? { ...model, block: { ...model.block, A: { type: 'dense', weight: toTensor32(denseA(model.block), [n, n]) } } } : model;
    const done = state.resumed?.rows.filter((r) => r.stage === 'original') ?? [];
    if (done.length) {
      // --resume: the originals were evaluated; their times stay the baseline of every speedup
      const first = done[0]!;
      state.baseline = { seconds: first.wallSeconds, ...(state.regression ? (first.testMse !== undefined ? { mse: first.testMse } : {}) : { top1: first.top1 ?? Number.NaN }) };
      if (state.resumed?.regression) state.observed = state.resumed.regression;
      const conv = done.find((r) => r.method === 'original-conv');
      if (conv) state.convSeconds = conv.wallSeconds;
      state.timingWarnings.push(...(state.resumed?.timing?.warnings ?? []));
      state.rows.push(...done);
      // paired timing: the baseline's executable is built again, so that the remaining models pair with it
      if (state.config.evaluate.timing !== 'single') state.reference = await buildFor(state, isConv ? toeplitz() : model);
      return;
    }
    if (isConv) {
      const dense = await evaluateModel(state, toeplitz(), 'original (Toeplitz)', 'original', 'original', n);
      const conv = await evaluateModel(state, model, 'original (conv)', 'original', 'original-conv', n);
      state.convSeconds = conv.wallSeconds;
      for (const row of [dense, conv]) {
        row.speedupVsConv = conv.wallSeconds / row.wallSeconds;
        await publishRow(state, row);
      }
    } else {
      await publishRow(state, await evaluateModel(state, model, 'original', 'original', 'original', n));
    }
  },
};
