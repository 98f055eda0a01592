/**
 * @odemor/dataset-dynamics: trajectories of known dynamical systems (a stiff linear system, Van der Pol,
 * a damped pendulum, Lotka–Volterra and a dynamic bicycle model of a car with inputs), integrated in
 * float64 with Dormand–Prince 5(4) at rtol 1e-10, as a regression / system-identification dataset.
 *
 * Provides the Dataset name `dynamics` (option `system`, default `'van-der-pol'`). The systems and the
 * integrator are exported as plain functions for other plugins (evaluators, reference solves).
 */
import type { DatasetFactory, OdemorPlugin } from '@odemor/core';
import { createDynamicsDataset } from './dataset.js';
import { dynamicsOptionsSchema } from './options.js';

export { DynamicsDataset, createDynamicsDataset, type TrajectorySplit, type GenerationStats } from './dataset.js';
export {
  resolveOptions,
  dynamicsOptionsSchema,
  SYSTEM_KEYS,
  DEFAULT_SYSTEM,
  DEFAULT_TRAJECTORIES,
  DEFAULT_TEST,
  MAX_SIGNAL_STEPS,
  VEHICLE_INPUT_DEFAULTS,
  type DynamicsOptions,
  type InputOptions,
} from './options.js';
export { integrateTrajectory, DEFAULT_RTOL, DEFAULT_ATOL, type InputSignal, type IntegrateOptions } from './integrate.js';
export { randomInput, deriveSeed, streamFor, INPUT_KINDS, SMOOTH_TERMS, SMOOTH_FREQUENCY, PIECEWISE_HOLD, type InputKind } from './signals.js';
export {
  systems,
  createSystem,
  isSystemName,
  stiffLinearMatrix,
  stiffLinearExact,
  lotkaVolterraInvariant,
  pendulumEnergy,
  SYSTEM_NAMES,
  STIFF_P,
  type SystemName,
  type SystemDefinition,
  type SystemParams,
  type DynamicalSystem,
  type Range,
} from './systems.js';

/** Factory of the `dynamics` Dataset. */
export const dynamicsFactory: DatasetFactory = (options) => createDynamicsDataset(options);

/** The plugin: register it with `experiment.use(plugin)` or list it under `plugins:` in a config. */
const plugin: OdemorPlugin = {
  name: '@odemor/dataset-dynamics',
  register(ctx) {
    ctx.provide('Dataset', 'dynamics', dynamicsFactory, {
      description:
        "trajectories of known dynamical systems (float64 Dopri5, rtol 1e-10) for regression; option system: 'stiff-linear' | 'van-der-pol' | 'pendulum' | 'lotka-volterra' | 'vehicle'",
      options: dynamicsOptionsSchema(),
    });
  },
};

export default plugin;
