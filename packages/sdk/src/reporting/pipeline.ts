/**
 * The event pipeline behind every report call. A report only appends to a queue; a background
 * sender ships the queue to `events.add_batch` (json-lines) when enough events are waiting or the
 * oldest has waited long enough, retries with backoff while the server is unreachable, and records
 * what the server refused so that `flush()` can reject with it. Memory is bounded: when the queue
 * is full, the report call returns a Promise that resolves once there is room again; nothing is
 * ever dropped. Metric events carry no client-side id: the server's document id (md5 of entity,
 * iteration, metric, variant) makes a re-sent batch overwrite itself instead of duplicating.
 */
import { events as eventOps } from '@cairn/protocol';
import { ApiCallError, ConnectionError, UsageError, causeText } from '../errors.js';
import { ReportingError } from './errors.js';

/** ClearML's `development.worker.report_event_flush_threshold`: send once this many events wait. */
export const FLUSH_THRESHOLD_EVENTS = 100;
/** ClearML's flush period: a waiting event is sent after at most this long. */
export const FLUSH_INTERVAL_MS = 5_000;
/** Events held in memory (queued and in flight) before report calls have to wait: a few MB of scalars. */
export const MAX_QUEUED_EVENTS = 10_000;
/** Events per add_batch request: keeps one request around a second of server work. */
export const MAX_EVENTS_PER_REQUEST = 2_000;
/** Estimated body size per request; the API client refuses batches above 15 MiB. */
export const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
/** Retry backoff: starts here, doubles per failure up to the maximum. */
export const RETRY_INITIAL_DELAY_MS = 250;
export const RETRY_MAX_DELAY_MS = 5_000;
/** A batch the server keeps failing (unreachable, 5xx) is given up after this long. */
export const RETRY_DEADLINE_MS = 10 * 60_000;
/** Size assumed for the fixed fields of one event line. */
const EVENT_BASE_BYTES = 200;

/** The part of the API client the pipeline needs (`ApiClient` from api/client.ts fits). */
export interface EventsClient {
  callBatch(op: typeof eventOps.add_batch, items: object[]): Promise<{ added: number; errors: number; errors_info: Record<string, number> }>;
}

export interface EventPipelineOptions {
  flushThreshold?: number;
  flushIntervalMs?: number;
  maxQueuedEvents?: number;
  maxEventsPerRequest?: number;
  maxRequestBytes?: number;
  retryInitialDelayMs?: number;
  retryMaxDelayMs?: number;
  retryDeadlineMs?: number;
  /** Flush when the process is about to exit (default true). */
  flushOnExit?: boolean;
}

/**
 * The task or model events are reported to. Its id may not be known yet (a model that is created
 * on first report): events then wait in the queue with the reference, and the sender resolves it.
 */
export class EntityRef {
  id: string | undefined;
  private pending: Promise<string> | undefined;

  constructor(private readonly source: () => Promise<string> | string) {}

  resolve(): Promise<string> {
    if (this.id !== undefined) return Promise.resolve(this.id);
    this.pending ??= Promise.resolve()
      .then(this.source)
      .then(
        (id) => (this.id = id),
        (err: unknown) => {
          // A later batch tries again.
          this.pending = undefined;
          throw err;
        },
      );
    return this.pending;
  }
}

/** An event as queued: its `task` is the entity id, or the reference that will give it. */
export type QueuedEvent = Record<string, unknown> & { task?: string | EntityRef; model_event?: boolean };

interface FlushWaiter {
  target: number;
  resolve: () => void;
}

function isTransient(err: unknown): boolean {
  if (err instanceof ConnectionError) return true;
  if (err instanceof ApiCallError) return err.code >= 500 || err.code === 429 || err.code === 408;
  return false;
}

function estimateBytes(event: QueuedEvent): number {
  let bytes = EVENT_BASE_BYTES;
  if (typeof event.plot_str === 'string') bytes += Buffer.byteLength(JSON.stringify(event.plot_str));
  if (typeof event.msg === 'string') bytes += Buffer.byteLength(JSON.stringify(event.msg));
  return bytes;
}

function describeEntities(batch: readonly QueuedEvent[]): string[] {
  const names = new Set<string>();
  for (const e of batch) names.add(`${e.model_event ? 'model' : 'task'} ${typeof e.task === 'string' ? e.task : '(not created)'}`);
  return [...names];
}

function listed(entities: string[]): string {
  return entities.length > 3 ? `${entities.slice(0, 3).join(', ')} and ${entities.length - 3} more` : entities.join(', ');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class EventPipeline {
  private readonly threshold: number;
  private readonly intervalMs: number;
  private readonly capacity: number;
  private readonly perRequest: number;
  private readonly requestBytes: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly retryDeadlineMs: number;
  private readonly flushOnExit: boolean;

  private queue: QueuedEvent[] = [];
  private inflight = 0;
  private enqueued = 0;
  private settled = 0;
  private due = false;
  private timer: NodeJS.Timeout | undefined;
  private pumping = false;
  private pumpScheduled = false;
  private closed = false;
  private exitHooked = false;
  private exiting = false;
  private spaceWaiters: (() => void)[] = [];
  private flushWaiters: FlushWaiter[] = [];
  private failures: ReportingError[] = [];

  constructor(
    private readonly client: EventsClient,
    options: EventPipelineOptions = {},
  ) {
    this.threshold = options.flushThreshold ?? FLUSH_THRESHOLD_EVENTS;
    this.intervalMs = options.flushIntervalMs ?? FLUSH_INTERVAL_MS;
    this.capacity = options.maxQueuedEvents ?? MAX_QUEUED_EVENTS;
    this.perRequest = options.maxEventsPerRequest ?? MAX_EVENTS_PER_REQUEST;
    this.requestBytes = options.maxRequestBytes ?? MAX_REQUEST_BYTES;
    this.retryInitialMs = options.retryInitialDelayMs ?? RETRY_INITIAL_DELAY_MS;
    this.retryMaxMs = options.retryMaxDelayMs ?? RETRY_MAX_DELAY_MS;
    this.retryDeadlineMs = options.retryDeadlineMs ?? RETRY_DEADLINE_MS;
    this.flushOnExit = options.flushOnExit ?? true;
  }

  /**
   * Queues one event; no I/O happens here. Returns a Promise only when the queue is full: await it
   * before reporting more.
   */
  enqueue(event: QueuedEvent): void | Promise<void> {
    if (this.closed) throw new UsageError('the reporting pipeline is closed');
    const length = this.queue.push(event);
    this.enqueued++;
    if (length === 1) {
      if (!this.timer) this.armTimer();
      if (!this.exitHooked && this.flushOnExit) this.hookExit();
    }
    if (length >= this.threshold) this.schedule();
    if (length + this.inflight > this.capacity) return new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
  }

  /**
   * Resolves once every event queued before the call is stored, or was given up; rejects with a
   * ReportingError when the server refused any events since the last flush.
   */
  async flush(): Promise<void> {
    const target = this.enqueued;
    if (this.settled < target) {
      await new Promise<void>((resolve) => {
        this.flushWaiters.push({ target, resolve });
        this.schedule();
      });
    }
    this.throwFailures();
  }

  /** Refuses further events and flushes the ones queued. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
    } finally {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.unhookExit();
    }
  }

  /** Events queued or in flight. */
  get pending(): number {
    return this.queue.length + this.inflight;
  }

  private throwFailures(): void {
    if (!this.failures.length) return;
    const [first, ...others] = this.failures;
    this.failures = [];
    if (!others.length) throw first!;
    const lost = [first!, ...others].reduce((n, f) => n + f.details.lost, 0);
    throw new ReportingError(`${first!.message} (and ${others.length} more refused batches; ${lost} events lost in all)`, { ...first!.details, lost }, { cause: first });
  }

  private armTimer(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.queue.length) {
        this.due = true;
        this.schedule();
      }
    }, this.intervalMs);
    // A waiting batch must not keep the process alive: the exit hook flushes it.
    this.timer.unref();
  }

  private schedule(): void {
    if (this.pumpScheduled || this.pumping) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  private mustSend(): boolean {
    return this.queue.length >= this.threshold || this.due || this.flushWaiters.length > 0;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length && this.mustSend()) {
        const batch = this.takeBatch();
        this.inflight += batch.length;
        try {
          await this.deliver(batch);
        } finally {
          this.inflight -= batch.length;
          this.settled += batch.length;
          if (!this.queue.length) this.due = false;
          this.wake();
        }
      }
    } finally {
      this.pumping = false;
      if (this.queue.length && !this.timer && !this.closed) this.armTimer();
    }
  }

  private takeBatch(): QueuedEvent[] {
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && count < this.perRequest) {
      const size = estimateBytes(this.queue[count]!);
      if (count > 0 && bytes + size > this.requestBytes) break;
      bytes += size;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private wake(): void {
    if (this.spaceWaiters.length && this.queue.length + this.inflight <= this.capacity) {
      const waiters = this.spaceWaiters;
      this.spaceWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (this.flushWaiters.length) {
      const ready = this.flushWaiters.filter((w) => w.target <= this.settled);
      this.flushWaiters = this.flushWaiters.filter((w) => w.target > this.settled);
      for (const w of ready) w.resolve();
    }
  }

  /** Sends one batch until it is stored, refused, or given up. Never throws. */
  private async deliver(batch: QueuedEvent[]): Promise<void> {
    const sendable = await this.resolveEntities(batch);
    if (!sendable.length) return;
    const started = Date.now();
    let delay = this.retryInitialMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.client.callBatch(eventOps.add_batch, sendable);
        if (res.errors > 0) {
          const entities = describeEntities(sendable);
          const refused = Object.entries(res.errors_info)
            .map(([msg, n]) => `${msg}=${n}`)
            .join(', ');
          this.failures.push(
            new ReportingError(`${eventOps.add_batch.endpoint} stored ${res.added} of ${sendable.length} events for ${listed(entities)}; the server refused ${res.errors}: ${refused}`, {
              endpoint: eventOps.add_batch.endpoint,
              entities,
              lost: res.errors,
              errorsInfo: res.errors_info,
            }),
          );
        }
        return;
      } catch (err) {
        const elapsed = Date.now() - started;
        if (isTransient(err) && elapsed + delay <= this.retryDeadlineMs) {
          await sleep(delay * (0.8 + 0.4 * Math.random()));
          delay = Math.min(delay * 2, this.retryMaxMs);
          continue;
        }
        const entities = describeEntities(sendable);
        const gaveUp = isTransient(err) ? ` (gave up after ${attempt} attempts in ${Math.round(elapsed / 1000)} s)` : '';
        this.failures.push(
          new ReportingError(
            `reporting ${sendable.length} events to ${listed(entities)} failed: ${causeText(err)}${gaveUp}`,
            { endpoint: eventOps.add_batch.endpoint, entities, lost: sendable.length },
            { cause: err },
          ),
        );
        return;
      }
    }
  }

  /** Fills in the ids of entities that were not created yet; events of an entity that fails to resolve are lost. */
  private async resolveEntities(batch: QueuedEvent[]): Promise<QueuedEvent[]> {
    const refs = new Set<EntityRef>();
    for (const e of batch) if (e.task instanceof EntityRef) refs.add(e.task);
    if (!refs.size) return batch;
    const failed = new Map<EntityRef, unknown>();
    await Promise.all([...refs].map((ref) => ref.resolve().catch((err: unknown) => void failed.set(ref, err))));
    const sendable: QueuedEvent[] = [];
    const lost = new Map<EntityRef, number>();
    for (const e of batch) {
      const ref = e.task;
      if (ref instanceof EntityRef) {
        if (failed.has(ref)) {
          lost.set(ref, (lost.get(ref) ?? 0) + 1);
          continue;
        }
        e.task = ref.id!;
      }
      sendable.push(e);
    }
    for (const [ref, count] of lost) {
      const kind = batch.find((e) => e.task === ref)?.model_event ? 'model' : 'task';
      this.failures.push(
        new ReportingError(`reporting ${count} events failed: the ${kind} they belong to could not be registered: ${causeText(failed.get(ref))}`, {
          endpoint: eventOps.add_batch.endpoint,
          entities: [`${kind} (not created)`],
          lost: count,
        }, { cause: failed.get(ref) }),
      );
    }
    return sendable;
  }

  private readonly onBeforeExit = (): void => {
    if (this.exiting || (this.settled >= this.enqueued && !this.failures.length)) return;
    this.exiting = true;
    this.flush().then(
      () => {
        this.exiting = false;
      },
      (err: unknown) => {
        this.exiting = false;
        console.error(`cairn: reported events were not stored: ${causeText(err)}`);
        process.exitCode = 1;
      },
    );
  };

  private hookExit(): void {
    this.exitHooked = true;
    process.on('beforeExit', this.onBeforeExit);
  }

  private unhookExit(): void {
    if (!this.exitHooked) return;
    this.exitHooked = false;
    process.off('beforeExit', this.onBeforeExit);
  }
}
