/**
 * Stage 'snapshots': when a reducer needs them, one pass of the full ODE block over the training data on
 * a runtime that takes snapshots (natively computed Gram matrices when the snapshotter only needs those),
 * streamed batch by batch into the Snapshotter (memory O(n²)). A sharded pass (`--queue`) runs
 * {@link snapshotPass} over a range of the batches on each worker (docs/architecture.md#scale-out).
 */
import { snapshotsSchema } from '../../config/schema.js';
import { OdemorError } from '../../errors.js';
import type { Snapshotter } from '../../extension-points.js';
import { progress, runtimeFor } from '../evaluate.js';
import { loadSnapshots, saveSnapshots } from '../persist.js';
import type { ExperimentState, Stage } from '../state.js';

export const snapshotsStage: Stage = {
  name: 'snapshots',
  async run(state) {
    if (!needsSnapshots(state)) return;
    const saved = state.resumed ? loadSnapshots(state.workDir) : undefined;
    if (saved) {
      state.snapshots = saved;
      return;
    }
    const snapshotter = beginSnapshots(state);
    await snapshotPass(state, snapshotter);
    state.snapshots = snapshotter.finish();
    if (state.options.write !== false) await saveSnapshots(state.workDir, state.snapshots);
  },
};

/** Whether some reducer of the experiment needs snapshots. */
export function needsSnapshots(state: ExperimentState): boolean {
  return state.reducers.some((r) => r.reducer.needsSnapshots);
}

/** The config's snapshotter, begun for the model's block (an mlp block's nonlinear snapshots are its hidden activations, width m). */
export function beginSnapshots(state: ExperimentState): Snapshotter {
  const { model } = state;
  if (model.block.kind !== 'ode' && model.block.kind !== 'mlp') throw new OdemorError('MODEL', `snapshots need a model with a full ODE block or an mlp block; this one has a '${model.block.kind}' block`);
  const { use: _u, every: _e, limit: _l, batch: _b, ...sopts } = state.config.snapshots ?? snapshotsSchema.parse({});
  const snapshotter = state.exp.factory('Snapshotter', state.resolved.snapshotter ?? snapshotsSchema.shape.use.parse(undefined))(sopts) as Snapshotter;
  snapshotter.begin(model.block.n, model.block.kind === 'mlp' ? model.block.m : undefined);
  return snapshotter;
}

/** The batches of the snapshot pass: the samples it covers (`snapshots.limit`, at most the training split) and their batch size. */
export function snapshotBatches(state: ExperimentState): { samples: number; batch: number; batches: number } {
  const { limit, batch } = state.config.snapshots ?? snapshotsSchema.parse({});
  const samples = Math.min(limit ?? Infinity, state.dataset.info.trainSize);
  return { samples, batch, batches: Math.ceil(samples / batch) };
}

/**
 * The snapshot pass into a begun `snapshotter`: every batch of the training split (up to `snapshots.limit`),
 * or with `range` only the batches `from` ≤ index < `to` (a shard: the same batches, cut at the same
 * boundaries, as one pass takes).
 */
export async function snapshotPass(state: ExperimentState, snapshotter: Snapshotter, range?: { from: number; to: number }): Promise<void> {
  const { model, solver, dataset } = state;
  const { every } = state.config.snapshots ?? snapshotsSchema.parse({});
  const { samples: total, batch } = snapshotBatches(state);
  const rt = await runtimeFor(state, model, 'snapshots');
  const from = range?.from ?? 0;
  const to = range?.to ?? Infinity;
  const shardSamples = range ? Math.min(total, to * batch) - from * batch : total;
  let index = 0;
  let done = 0;
  for await (const b of dataset.batches('train', batch, { limit: total })) {
    const i = index++;
    if (i < from) continue;
    if (i >= to) break;
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
    progress(state, 'snapshots', 'snapshots', done, shardSamples);
  }
}
