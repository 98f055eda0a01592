/**
 * @odemor/queue-bullmq — the job queue of distributed odemor sweeps (docs/architecture.md#scale-out), on BullMQ
 * over Redis. `odemor run <config> --queue redis://host:port` puts the jobs of a sweep (the snapshot pass's shards,
 * one job per (method, dim)) on it and waits for them; `odemor worker --queue redis://host:port` takes them.
 *
 * - Jobs: one BullMQ queue (default name `odemor`), a job named by its kind (`snapshot-shard`, `sweep`) with the
 *   run id in its data; retried `attempts` times on an error, and moved back to the wait list by BullMQ's stalled
 *   check when the worker that held it stops renewing its lock (a killed worker: `lockDuration`,
 *   `stalledInterval`).
 * - Artifacts (the run's context, trained model, snapshot partials and snapshot set): one Redis hash per run
 *   (`<prefix>:<queue>:run:<run>`), removed when the coordinator's sweep ends and expiring after `artifactTtl`
 *   seconds in any case (a coordinator that died).
 */
import os from 'node:os';
import { Queue, QueueEvents, Worker, type Job, type RedisOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { OdemorError, type JobOutcome, type QueueJob, type QueueJobSpec, type SweepQueue } from '@odemor/core';

export const PACKAGE_NAME = '@odemor/queue-bullmq';
/** The BullMQ queue's name when none is given. */
export const DEFAULT_QUEUE_NAME = 'odemor';
/** Seconds a run's artifacts live in Redis at most (7 days). */
export const DEFAULT_ARTIFACT_TTL = 7 * 24 * 3600;
/** Tries of a job that throws (a killed worker's job is retried by the stalled check, which does not count as a try). */
export const DEFAULT_ATTEMPTS = 2;
/** How long `openSweepQueue` waits for Redis to answer before giving up, in milliseconds. */
export const CONNECT_TIMEOUT_MS = 10_000;

export interface SweepQueueOptions {
  /** the BullMQ queue (default {@link DEFAULT_QUEUE_NAME}); coordinator and workers must use the same */
  name?: string;
  /** Redis key prefix (BullMQ's, default 'bull') */
  prefix?: string;
  /** tries per job ({@link DEFAULT_ATTEMPTS}) */
  attempts?: number;
  /** seconds a run's artifacts live at most ({@link DEFAULT_ARTIFACT_TTL}) */
  artifactTtl?: number;
}

/** How a worker takes jobs: BullMQ's lock and stalled-job settings (milliseconds). */
export interface SweepWorkerSettings {
  /** how long a job's lock lasts without renewal (BullMQ default 30000); a killed worker's job is retried after it */
  lockDuration?: number;
  /** how often this worker looks for stalled jobs (BullMQ default 30000) */
  stalledInterval?: number;
  /** how often a job may stall before it fails (BullMQ default 1) */
  maxStalledCount?: number;
  /** told each job as it is taken, and as it ends */
  onJob?: (event: 'active' | 'completed' | 'failed' | 'stalled', job: { id: string; label: string; kind: string; attempt: number; error?: string }) => void;
  /** told errors of the connection or the worker */
  onError?: (error: Error) => void;
}

/** A running worker. */
export interface SweepWorkerHandle {
  /** Stop taking jobs; waits for the job in progress. */
  close(): Promise<void>;
}

/** `redis://user:password@host:port/db` without the password, for messages and results.json. */
export function displayUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '';
  if (u.username && !u.password) u.username = '';
  return u.toString().replace(/\/$/, '');
}

/**
 * Check a `--queue` value: a `redis://` or `rediss://` URL.
 * @throws OdemorError `ARGUMENT` naming the value and what is expected
 */
export function checkQueueUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new OdemorError('ARGUMENT', `--queue '${url}' is not a URL; give the Redis server as redis://host:port (or rediss:// for TLS)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new OdemorError('ARGUMENT', `--queue '${url}' must be a redis:// or rediss:// URL (the Redis server BullMQ runs on), got a ${u.protocol}// URL`);
  }
}

type JobData = { run: string; label: string } & Record<string, unknown>;

/** The BullMQ queue of distributed sweeps: the coordinator's {@link SweepQueue}, and {@link BullmqSweepQueue.work} for workers. */
export class BullmqSweepQueue implements SweepQueue {
  readonly url: string;
  readonly name: string;
  private readonly prefix: string;
  private readonly attempts: number;
  private readonly ttl: number;
  private queue: Queue | undefined;
  private events: QueueEvents | undefined;
  private readonly workers: Worker[] = [];

  private constructor(
    private readonly redisUrl: string,
    private readonly redis: Redis,
    options: SweepQueueOptions,
  ) {
    this.url = displayUrl(redisUrl);
    this.name = options.name ?? DEFAULT_QUEUE_NAME;
    this.prefix = options.prefix ?? 'bull';
    this.attempts = options.attempts ?? DEFAULT_ATTEMPTS;
    this.ttl = options.artifactTtl ?? DEFAULT_ARTIFACT_TTL;
  }

  /** Connect to Redis at `url` (checked first), failing within {@link CONNECT_TIMEOUT_MS} when it does not answer. */
  static async open(url: string, options: SweepQueueOptions = {}): Promise<BullmqSweepQueue> {
    checkQueueUrl(url);
    const redis = new Redis(connection(url));
    let timer: NodeJS.Timeout | undefined;
    let lastError: Error | undefined;
    const onError = (e: Error) => void (lastError = e);
    redis.on('error', onError);
    try {
      await Promise.race([
        redis.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(lastError?.message ?? 'no answer')), CONNECT_TIMEOUT_MS);
        }),
      ]);
    } catch (e) {
      redis.disconnect();
      throw new OdemorError('IO', `cannot reach Redis at ${displayUrl(url)} (--queue): ${(e as Error).message}; is redis-server running there?`, { cause: e });
    } finally {
      clearTimeout(timer);
      redis.off('error', onError);
    }
    return new BullmqSweepQueue(url, redis, options);
  }

  private runKey(run: string): string {
    return `${this.prefix}:${this.name}:run:${run}`;
  }

  async putArtifact(run: string, name: string, bytes: Uint8Array): Promise<void> {
    const key = this.runKey(run);
    await this.redis.multi().hset(key, name, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).expire(key, this.ttl).exec();
  }

  async getArtifact(run: string, name: string): Promise<Uint8Array> {
    const b = await this.redis.hgetBuffer(this.runKey(run), name);
    if (!b) throw new OdemorError('IO', `run ${run} has no artifact '${name}' in Redis at ${this.url} (the run ended or its artifacts expired)`);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }

  async clearRun(run: string): Promise<void> {
    await this.redis.del(this.runKey(run));
  }

  private bullQueue(): Queue {
    return (this.queue ??= new Queue(this.name, { connection: connection(this.redisUrl), prefix: this.prefix }));
  }

  async runJobs(run: string, jobs: readonly QueueJobSpec[], onSettled: (index: number, outcome: JobOutcome) => void | Promise<void>): Promise<void> {
    if (!jobs.length) return;
    const events = (this.events ??= new QueueEvents(this.name, { connection: connection(this.redisUrl), prefix: this.prefix }));
    await events.waitUntilReady();
    const added = await this.bullQueue().addBulk(
      jobs.map((j, i) => ({
        name: j.kind,
        data: { ...j.data, run, label: j.label } satisfies JobData,
        opts: {
          jobId: `${run}-${j.kind}-${i}`,
          attempts: this.attempts,
          backoff: { type: 'fixed', delay: 500 },
          removeOnComplete: { age: 3600 },
          removeOnFail: { age: 24 * 3600 },
        },
      })),
    );
    // the callbacks one at a time, in the order the jobs settle
    let chain: Promise<void> = Promise.resolve();
    await Promise.all(
      added.map(async (job, i) => {
        let outcome: JobOutcome;
        try {
          outcome = { ok: true, value: await job.waitUntilFinished(events) };
        } catch (e) {
          outcome = { ok: false, error: (e as Error).message };
        }
        chain = chain.then(() => onSettled(i, outcome));
        await chain;
      }),
    );
  }

  /**
   * Take jobs of the queue (one at a time) and run `handler` on each; its return value is the job's result, what
   * it throws the job's error (retried up to the job's attempts).
   */
  work(handler: (job: QueueJob) => Promise<unknown>, settings: SweepWorkerSettings = {}): SweepWorkerHandle {
    const describe = (job: Job, error?: string) => ({
      id: job.id ?? '?',
      label: String((job.data as JobData).label ?? job.name),
      kind: job.name,
      attempt: job.attemptsMade + 1,
      ...(error !== undefined ? { error } : {}),
    });
    const worker = new Worker(
      this.name,
      async (job: Job) => {
        settings.onJob?.('active', describe(job));
        const { run, label, ...data } = job.data as JobData;
        return handler({ kind: job.name as QueueJob['kind'], run, label, data });
      },
      {
        connection: connection(this.redisUrl),
        prefix: this.prefix,
        concurrency: 1,
        name: `${os.hostname()}:${process.pid}`,
        ...(settings.lockDuration !== undefined ? { lockDuration: settings.lockDuration } : {}),
        ...(settings.stalledInterval !== undefined ? { stalledInterval: settings.stalledInterval } : {}),
        ...(settings.maxStalledCount !== undefined ? { maxStalledCount: settings.maxStalledCount } : {}),
      },
    );
    worker.on('completed', (job) => settings.onJob?.('completed', describe(job)));
    worker.on('failed', (job, e) => job && settings.onJob?.('failed', describe(job, e.message)));
    worker.on('stalled', (id) => settings.onJob?.('stalled', { id, label: id, kind: '?', attempt: 0 }));
    worker.on('error', (e) => settings.onError?.(e));
    this.workers.push(worker);
    return {
      close: async () => {
        await worker.close();
        this.workers.splice(this.workers.indexOf(worker), 1);
      },
    };
  }

  async close(): Promise<void> {
    for (const w of [...this.workers]) await w.close();
    this.workers.length = 0;
    await this.events?.close();
    await this.queue?.close();
    this.redis.disconnect();
  }
}

/**
 * The connection options of a `redis://` URL, as BullMQ's workers need them (no per-request retry limit): given as
 * options, not a client, so that each BullMQ object opens and closes its own connection.
 */
function connection(url: string): RedisOptions {
  const u = new URL(url);
  const db = u.pathname.replace(/^\//, '');
  return {
    host: u.hostname || 'localhost',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/** Open the queue at `url` (see {@link BullmqSweepQueue.open}). */
export function openSweepQueue(url: string, options: SweepQueueOptions = {}): Promise<BullmqSweepQueue> {
  return BullmqSweepQueue.open(url, options);
}
