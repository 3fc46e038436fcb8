/** One running scimd's Prometheus metrics (prom-client): requests, provisioning, database, and gauges others add. */
import {
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  Registry,
} from 'prom-client'

/** What one HTTP request is counted under. */
export interface RequestSample {
  /** The source's slug on SCIM paths; '' elsewhere. */
  source: string
  /** The route pattern that answered (`/source/scim/:slug/v2/Users/:id`), never the raw path. */
  endpoint: string
  method: string
  status: number
  seconds: number
}

/** A sample a gauge reports at scrape time. */
export interface GaugeSample {
  labels?: Record<string, string>
  value: number
}

export interface Metrics {
  readonly registry: Registry
  readonly contentType: string
  observeRequest(sample: RequestSample): void
  /** A committed SCIM write: `resource` User or Group, `operation` create/replace/patch/delete. */
  provisioned(source: string, resource: string, operation: string): void
  /**
   * Registers a gauge whose value is read when Prometheus scrapes (e.g. the provider
   * outbox's depth and lag, the database pool). Names start with `scimd_`.
   */
  gauge(
    name: string,
    help: string,
    labelNames: readonly string[],
    collect: () => GaugeSample[] | Promise<GaugeSample[]>,
  ): void
  /** A counter others increment, e.g. pushes to a provider. */
  counter(name: string, help: string, labelNames: readonly string[]): Counter
  render(): Promise<string>
}

/** Latency buckets in seconds: SCIM requests take 0.1 to 10 ms; slow ones are what matter. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/**
 * A registry per runtime (tests build many apps; nothing global). Labelled children are
 * kept in maps keyed by their label values: prom-client hashes a label object on every
 * `labels()` call, and a request should cost a map lookup, not that.
 */
export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry()
  if (options.processMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'scimd_' })
  const requests = new Counter({
    name: 'scimd_http_requests_total',
    help: 'HTTP requests answered, by source slug, route pattern, method and status',
    labelNames: ['source', 'endpoint', 'method', 'status'],
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'scimd_http_request_duration_seconds',
    help: 'Time from the request reaching scimd to its response being ready, by route pattern',
    labelNames: ['endpoint', 'method'],
    buckets: BUCKETS,
    registers: [registry],
  })
  const provisioning = new Counter({
    name: 'scimd_provisioning_operations_total',
    help: 'Committed SCIM writes, by source slug, resource type and operation',
    labelNames: ['source', 'resource', 'operation'],
    registers: [registry],
  })
  const requestChildren = new Map<string, Counter.Internal>()
  const durationChildren = new Map<string, Histogram.Internal<string>>()
  const provisioningChildren = new Map<string, Counter.Internal>()

  return {
    registry,
    contentType: registry.contentType,
    observeRequest({ source, endpoint, method, status, seconds }) {
      const key = `${source}\n${endpoint}\n${method}\n${status}`
      let counter = requestChildren.get(key)
      if (!counter) {
        counter = requests.labels(source, endpoint, method, String(status))
        requestChildren.set(key, counter)
      }
      counter.inc()
      const timeKey = `${endpoint}\n${method}`
      let histogram = durationChildren.get(timeKey)
      if (!histogram) {
        histogram = duration.labels(endpoint, method)
        durationChildren.set(timeKey, histogram)
      }
      histogram.observe(seconds)
    },
    provisioned(source, resource, operation) {
      const key = `${source}\n${resource}\n${operation}`
      let counter = provisioningChildren.get(key)
      if (!counter) {
        counter = provisioning.labels(source, resource, operation)
        provisioningChildren.set(key, counter)
      }
      counter.inc()
    },
    gauge(name, help, labelNames, collect) {
      new Gauge({
        name,
        help,
        labelNames: [...labelNames],
        registers: [registry],
        async collect() {
          this.reset()
          for (const sample of await collect()) {
            if (sample.labels) this.set(sample.labels, sample.value)
            else this.set(sample.value)
          }
        },
      })
    },
    counter(name, help, labelNames) {
      const config: CounterConfiguration<string> = {
        name,
        help,
        labelNames: [...labelNames],
        registers: [registry],
      }
      return new Counter(config)
    },
    render: () => registry.metrics(),
  }
}
