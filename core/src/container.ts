import 'reflect-metadata';
import { Container } from 'inversify';
import type { ZodType } from 'zod';
import { OdemorError } from './errors.js';
import { createHooks, type OdemorHooks } from './hooks.js';
import { TOKENS, type ExtensionPoint } from './tokens.js';
import { pluginFile, stackLocation } from './plugins/origin.js';
import type {
  DatasetFactory,
  EvaluatorFactory,
  ReducerFactory,
  RuntimeFactory,
  SnapshotterFactory,
  SolverFactory,
  TrainerFactory,
} from './extension-points.js';
import type { ModelFactory } from './model/factory.js';

/** The factory type bound under each extension point. */
export interface FactoryOf {
  Solver: SolverFactory;
  Snapshotter: SnapshotterFactory;
  Reducer: ReducerFactory;
  Evaluator: EvaluatorFactory;
  Dataset: DatasetFactory;
  Runtime: RuntimeFactory;
  Model: ModelFactory;
  Report: (options?: Record<string, unknown>) => { apply(hooks: OdemorHooks): void };
  Trainer: TrainerFactory;
}

/**
 * What a plugin says about one provided implementation besides its factory. `options` is the zod schema of
 * the implementation's own options — the config object at its `use:` minus the keys core owns there
 * (`use`, and e.g. `dims`/`points`/`energy` of a reducer). Build it with core's re-exported `z` and make it
 * strict (`z.strictObject`), so unknown keys are reported with a suggestion before anything runs.
 */
export interface ProvideMeta {
  description?: string;
  options?: ZodType;
}

export interface Provision {
  point: ExtensionPoint;
  name: string;
  plugin: string;
  description?: string;
  /** the option schema the plugin declared (see {@link ProvideMeta.options}) */
  options?: ZodType;
}

/**
 * What a plugin's `register(ctx)` receives: the experiment's container and hooks, and `provide`, which
 * binds a named factory under an extension point's token.
 */
export interface PluginContext {
  readonly container: Container;
  readonly hooks: OdemorHooks;
  /** `meta` is a description, or {@link ProvideMeta} with the option schema */
  provide<P extends ExtensionPoint>(point: P, name: string, factory: FactoryOf[P], meta?: string | ProvideMeta): void;
}

/** A plugin package's default export. */
export interface OdemorPlugin {
  name: string;
  register(ctx: PluginContext): void | Promise<void>;
}

/** One experiment's DI container, hooks and the record of what each plugin provides. */
export class Experiment {
  readonly container = new Container();
  readonly hooks: OdemorHooks = createHooks();
  readonly provisions: Provision[] = [];
  readonly plugins = new Map<string, OdemorPlugin>();

  async use(plugin: OdemorPlugin): Promise<void> {
    if (!plugin || typeof plugin.register !== 'function' || typeof plugin.name !== 'string') {
      throw new OdemorError('PLUGIN', `a plugin must export { name, register(ctx) }; got ${describe(plugin)}`);
    }
    if (this.plugins.has(plugin.name)) return;
    this.plugins.set(plugin.name, plugin);
    const ctx: PluginContext = {
      container: this.container,
      hooks: this.hooks,
      provide: (point, name, factory, meta) => {
        const { description, options } = typeof meta === 'string' ? { description: meta, options: undefined } : (meta ?? {});
        if (!(point in TOKENS)) throw new OdemorError('PLUGIN', `plugin ${plugin.name} provides unknown extension point '${point}'`);
        if (this.has(point, name)) {
          const prev = this.provisions.find((p) => p.point === point && p.name === name)!;
          if (prev.plugin === plugin.name) return;
          throw new OdemorError('PLUGIN', `${point} '${name}' is provided by both ${prev.plugin} and ${plugin.name}`);
        }
        this.container.bind(TOKENS[point]).toConstantValue(factory).whenNamed(name);
        this.provisions.push({ point, name, plugin: plugin.name, ...(description ? { description } : {}), ...(options ? { options } : {}) });
      },
    };
    try {
      await plugin.register(ctx);
    } catch (e) {
      this.plugins.delete(plugin.name); // not registered: a later use() reports the error again
      throw registerError(plugin, e);
    }
  }

  has(point: ExtensionPoint, name: string): boolean {
    return this.provisions.some((p) => p.point === point && p.name === name);
  }

  /** The factory bound under `point` with `name`; a PLUGIN error listing the known names otherwise. */
  factory<P extends ExtensionPoint>(point: P, name: string): FactoryOf[P] {
    if (!this.has(point, name)) {
      const known = this.names(point);
      throw new OdemorError('PLUGIN', `no ${point} named '${name}'; known: ${known.length ? known.join(', ') : '(none)'}`);
    }
    return this.container.get<FactoryOf[P]>(TOKENS[point], { name });
  }

  /** The provision of `point` named `name`, if any. */
  provision(point: ExtensionPoint, name: string): Provision | undefined {
    return this.provisions.find((p) => p.point === point && p.name === name);
  }

  names(point: ExtensionPoint): string[] {
    return this.provisions.filter((p) => p.point === point).map((p) => p.name);
  }
}

/**
 * A plugin's `register()` threw. An `OdemorError` (of any copy of core) is the plugin's own report, or core's
 * naming the plugin already (a name provided twice): it passes unchanged. Anything else — a bug, `Error('boom')` —
 * becomes a PLUGIN error naming the plugin, its file (when loaded from one) and the line it was thrown at.
 */
function registerError(plugin: OdemorPlugin, e: unknown): unknown {
  if (OdemorError.is(e)) return e;
  const file = pluginFile(plugin);
  const where = stackLocation(e, file) ?? (file ? undefined : stackLocation(e));
  const message = e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
  const from = file ? ` (${file})` : '';
  const at = where ? ` (at ${where})` : '';
  return new OdemorError('PLUGIN', `plugin '${plugin.name}'${from} failed in register(): ${message}${at}`, { cause: e });
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') return `an object with keys [${Object.keys(v).join(', ')}]`;
  return typeof v;
}
