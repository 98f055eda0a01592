/**
 * Trainer 'adjoint': runtime-onnx's training loop (batches, SGD / momentum / Adam on parameter buffers, clipping,
 * weight decay, schedules, checkpoints and resume) on the adjoint gradient program instead of backprop through the
 * solver's steps.
 */
import { OdemorError, type ModelIR, type Solver, type TrainContext, type TrainOptions, type TrainResult, type Trainer } from '@odemor/core';
import { OnnxBackpropTrainer, OnnxRuntime, parseOwnOptions, type CompileGradientProgram, type OnnxBackpropTrainerOptions, type SolverLike, type Support } from '@odemor/runtime-onnx';
import { compileAdjointProgram } from './program.js';

/** Options of Trainer 'adjoint': those of 'backprop-onnx' without the Taylor-Lagrange ones (`remainderWeight`, `midpoint`). */
export type AdjointTrainerOptions = Omit<OnnxBackpropTrainerOptions, 'remainderWeight' | 'midpoint'>;

/** What the trainer is built on besides its options: the gradient compiler (tests inject one). */
export interface AdjointTrainerDeps {
  /** default {@link compileAdjointProgram} */
  compile?: CompileGradientProgram;
}

const NAME = 'adjoint';

/** The Taylor-Lagrange options this trainer refuses, if `o` names one. */
function refused(o: Record<string, unknown> | undefined): string | undefined {
  if (!o) return undefined;
  if (o.midpoint !== undefined) return 'option midpoint (the Taylor-Lagrange midpoint schedule) is not available: the adjoint method integrates with a Butcher tableau';
  if (o.remainderWeight !== undefined && o.remainderWeight !== 0) return `option remainderWeight (got ${JSON.stringify(o.remainderWeight)}) is not available: the adjoint method has no remainder terms`;
  return undefined;
}

/** An OdemorError of the inner trainer with its messages naming this trainer. */
function renamed(e: unknown): unknown {
  if (!OdemorError.is(e) || !e.message.includes("'backprop-onnx'")) return e;
  return new OdemorError(e.code, e.message.replaceAll("trainer 'backprop-onnx'", `trainer '${NAME}'`), { cause: e });
}

/**
 * Trainer 'adjoint' (docs/algorithms.md#adjoint): the gradient of every batch by the adjoint method — the forward
 * solve keeps only the states at the readout times (or t1), the backward pass integrates [x, a, g] from t1 to t0
 * with the solver's tableau (fixed steps of dt, or the adaptive controller at the model's tolerances) — so memory
 * does not grow with the number of steps; the gradient differs from backprop's by the solver's error. Everything
 * else is runtime-onnx's trainer 'backprop-onnx' (its options, schedules, checkpoint state and history; the state's
 * fingerprint names this trainer, so a checkpoint of one does not resume into the other).
 */
export class AdjointTrainer implements Trainer {
  readonly name = NAME;
  private readonly inner: OnnxBackpropTrainer;

  constructor(defaults: AdjointTrainerOptions = {}, deps: AdjointTrainerDeps = {}) {
    const why = refused(defaults as Record<string, unknown>);
    if (why) throw new OdemorError('ARGUMENT', `trainer '${NAME}': ${why}`);
    try {
      parseOwnOptions(defaults as Record<string, unknown>);
    } catch (e) {
      throw renamed(e);
    }
    this.inner = new OnnxBackpropTrainer(defaults, { compile: deps.compile ?? compileAdjointProgram, backend: 'onnx/cpu (adjoint)' });
    // the inner trainer writes its name into the checkpoint fingerprint: this trainer's
    Object.defineProperty(this.inner, 'name', { value: NAME });
  }

  /**
   * Whether this trainer can train `model` with `solver`: explicit Runge–Kutta tableaux, fixed-step or adaptive
   * (the adaptive one with embedded weights `bHat`), not step programs without a tableau (Taylor-Lagrange); and the
   * models runtime-onnx compiles (full, reduced and mlp blocks, conv blocks, sequence and state inputs, input
   * signals, trajectory readouts).
   */
  supports(model: ModelIR, solver?: SolverLike): Support {
    if (solver && !solver.tableau) {
      return {
        ok: false,
        reason: `solver '${solver.name}' has no Butcher tableau; the adjoint method integrates the augmented state with one (a step program such as Taylor-Lagrange trains with 'backprop-onnx')`,
      };
    }
    if (solver?.adaptive && !solver.tableau!.bHat) return { ok: false, reason: `solver '${solver.name}' is adaptive but its tableau has no embedded weights (bHat) for the adjoint solve's error estimate` };
    if (model.midpoint) return { ok: false, reason: 'the model has a midpoint network (Taylor-Lagrange); the adjoint method has no use for it (train it with backprop-onnx)' };
    return new OnnxRuntime(solver ? { solver: solver as Solver } : {}).supports(model);
  }

  async train(model: ModelIR, options: TrainOptions, context: TrainContext): Promise<TrainResult> {
    const why = refused(options as unknown as Record<string, unknown>);
    if (why) throw new OdemorError('ARGUMENT', `trainer '${NAME}': ${why}`);
    if (model && context?.solver) {
      const support = this.supports(model, context.solver);
      if (!support.ok) throw new OdemorError('RUNTIME', `trainer '${NAME}': ${support.reason}`);
    }
    try {
      return await this.inner.train(model, options, context);
    } catch (e) {
      throw renamed(e);
    }
  }
}
