/**
 * Stage 'snapshots': when a reducer needs them, one pass of the full ODE block over the training data on
 * a runtime that takes snapshots (natively computed Gram matrices when the snapshotter only needs those),
 * streamed batch by batch into the Snapshotter (memory O(n²)).
 */
import { snapshotsSchema } from '../../config/schema.js';
import { OdemorError } from '../../errors.js';
import type { Snapshotter } from '../../extension-points.js';
import { progress, runtimeFor } from '../evaluate.js';
import { loadSnapshots, saveSnapshots } from '../persist.js';
import type { Stage } from '../state.js';

export const snapshotsStage: Stage = {
  name: 'snapshots',
  async run(state) {
    if (!state.reducers.some((r) => r.reducer.needsSnapshots)) return;
    const { model, solver, dataset } = state;
    const saved = state.resumed ? loadSnapshots(state.workDir) : undefined;
    if (saved) {
      state.snapshots = saved;
      return;
    }
    if (model.block.kind !== 'ode' && model.block.kind !== 'mlp') throw new OdemorError('MODEL', `snapshots need a model with a full ODE block or an mlp block; this one has a '${model.block.kind}' block`);
    const { use: _u, every, limit, batch, ...sopts } = state.config.snapshots ?? snapshotsSchema.parse({});
    const snapshotter = state.exp.factory('Snapshotter', state.resolved.snapshotter ?? snapshotsSchema.shape.use.parse(undefined))(sopts) as Snapshotter;
    // an mlp block's nonlinear snapshots are its hidden activations (width m)
    snapshotter.begin(model.block.n, model.block.kind === 'mlp' ? model.block.m : undefined);
    const rt = await runtimeFor(state, model, 'snapshots');
    const total = Math.min(limit ?? Infinity, dataset.info.trainSize);
    let done = 0;
    for await (const b of dataset.batches('train', batch, { limit: total })) {
      const sb = await rt.snapshotBatch!(model, b.x, b.size, {
        every,
        solver,
        ...(solver.tableau ? { tableau: solver.tableau } : {}),
        ...(b.u ? { u: b.u } : {}),
        // native Gram matrices when the snapshotter only needs those and the runtime computes them
        ...(snapshotter.prefersGram && rt.capabilities.gram ? { gram: true, raw: false } : {}),
      });
      await state.exp.hooks.snapshotBatch.promise(sb);
      snapshotter.consume(sb);
      done += b.size;
      progress(state, 'snapshots', 'snapshots', done, total);
    }
    state.snapshots = snapshotter.finish();
    if (state.options.write !== false) await saveSnapshots(state.workDir, state.snapshots);
  },
};
