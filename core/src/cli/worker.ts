/**
 * `odemor worker --queue redis://host:port`: take the jobs of distributed sweeps (`odemor run --queue`) from the
 * queue and run them (docs/architecture.md#scale-out), one at a time, until stopped (Ctrl-C, TERM). The queue is
 * @odemor/queue-bullmq (BullMQ on Redis), loaded when needed: core does not depend on it.
 *
 * Test hook: `ODEMOR_WORKER_TEST_DELAY_MS=<ms>` makes the worker wait that long after taking each job and before
 * running it, so that a test can kill a worker while it holds a job. Not for real use.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { OdemorError } from '../errors.js';
import { SweepWorker, type QueueJob, type SweepQueue } from '../pipeline/distributed.js';

/** The package that implements the queue. */
export const QUEUE_PACKAGE = '@odemor/queue-bullmq';

/** What core uses of @odemor/queue-bullmq. */
interface QueueModule {
  checkQueueUrl(url: string): void;
  openSweepQueue(url: string, options?: { name?: string }): Promise<
    SweepQueue & {
      work(
        handler: (job: QueueJob) => Promise<unknown>,
        settings: {
          lockDuration?: number;
          stalledInterval?: number;
          maxStalledCount?: number;
          onJob?: (event: 'active' | 'completed' | 'failed' | 'stalled', job: { id: string; label: string; kind: string; attempt: number; error?: string }) => void;
          onError?: (error: Error) => void;
        },
      ): { close(): Promise<void> };
    }
  >;
}

async function queueModule(): Promise<QueueModule> {
  const name = QUEUE_PACKAGE;
  try {
    return (await import(name)) as QueueModule;
  } catch (e) {
    throw new OdemorError('PLUGIN', `--queue needs ${QUEUE_PACKAGE} installed (npm install ${QUEUE_PACKAGE}): ${(e as Error).message}`);
  }
}

/** Open the queue a distributed run (`odemor run --queue URL`) puts its jobs on. */
export async function openRunQueue(url: string, name?: string): Promise<SweepQueue> {
  const q = await queueModule();
  q.checkQueueUrl(url);
  return q.openSweepQueue(url, name !== undefined ? { name } : {});
}

/** A positive whole number flag (`--shards`, `--lock-duration`), checked under its own name. */
export function parsePositiveFlag(flag: string, text: string): number {
  const v = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(v) || v < 1) throw new OdemorError('ARGUMENT', `${flag} must be a positive whole number, got '${text}'`);
  return v;
}

const USAGE_WORKER = 'usage: odemor worker --queue redis://host:port [--queue-name NAME] [--lock-duration MS] [--stalled-interval MS] [--max-stalled N] [--quiet]';

/** `odemor worker`: see the file's comment. Returns the exit code once stopped. */
export async function cmdWorker(rest: string[], io: { out: NodeJS.WriteStream; err: NodeJS.WriteStream }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: {
        queue: { type: 'string' },
        'queue-name': { type: 'string' },
        'lock-duration': { type: 'string' },
        'stalled-interval': { type: 'string' },
        'max-stalled': { type: 'string' },
        quiet: { type: 'boolean' },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (e) {
    throw new OdemorError('ARGUMENT', `${(e as Error).message}; ${USAGE_WORKER}`);
  }
  const v = parsed.values;
  if (v.queue === undefined) throw new OdemorError('ARGUMENT', `odemor worker needs --queue; ${USAGE_WORKER}`);
  const num = (flag: string, text: string | undefined) => (text === undefined ? undefined : parsePositiveFlag(flag, text));
  const settings = {
    lockDuration: num('--lock-duration', v['lock-duration']),
    stalledInterval: num('--stalled-interval', v['stalled-interval']),
    maxStalledCount: num('--max-stalled', v['max-stalled']),
  };
  const delay = process.env.ODEMOR_WORKER_TEST_DELAY_MS ? parsePositiveFlag('ODEMOR_WORKER_TEST_DELAY_MS', process.env.ODEMOR_WORKER_TEST_DELAY_MS) : 0;
  const q = await queueModule();
  q.checkQueueUrl(v.queue);
  const queue = await q.openSweepQueue(v.queue, v['queue-name'] !== undefined ? { name: v['queue-name'] } : {});
  const me = `${os.hostname()}:${process.pid}`;
  const say = (line: string) => io.err.write(`odemor worker ${me}: ${line}\n`);
  const quietLog = v.quiet ? () => undefined : say;
  const worker = new SweepWorker(queue, { log: quietLog });
  const started = new Map<string, number>();
  const handle = queue.work(
    async (job) => {
      if (delay) await new Promise((r) => setTimeout(r, delay));
      return worker.handle(job);
    },
    {
      ...Object.fromEntries(Object.entries(settings).filter(([, x]) => x !== undefined)),
      onJob: (event, job) => {
        if (event === 'active') {
          started.set(job.id, performance.now());
          say(`took ${job.label} (job ${job.id}, attempt ${job.attempt})`);
        } else if (event === 'completed') say(`finished ${job.label} in ${((performance.now() - (started.get(job.id) ?? performance.now())) / 1000).toFixed(1)} s`);
        else if (event === 'failed') say(`${job.label} failed (attempt ${job.attempt}): ${job.error}`);
        else say(`job ${job.id} stalled (its worker stopped); it goes back on the queue`);
      },
      onError: (e) => say(`queue error: ${e.message}`),
    },
  );
  say(`waiting for jobs on ${queue.url}${v['queue-name'] ? ` (queue ${v['queue-name']})` : ''}`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      say(`stopping (${signal}); finishing the job in progress`);
      process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await handle.close();
  await worker.close();
  await queue.close();
  say('stopped');
  return 0;
}
