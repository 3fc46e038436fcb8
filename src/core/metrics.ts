/** One running scimd's Prometheus metrics (prom-client): requests, provisioning, database, and gauges others add. */
import {
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
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

type Labels = Record<string, string>
interface Sample {
  metricName?: string
  labels: Labels
  value: number
}

/**
 * A metric prom-client's registry renders from samples built at scrape time: the hot path
 * only bumps numbers in a map (prom-client's own children hash their label object on every
 * `inc`/`observe`, which cost a GET a few percent).
 */
function scrapedMetric(
  name: string,
  help: string,
  type: 'counter' | 'histogram',
  samples: () => Sample[],
) {
  return {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: samples() }),
  }
}

interface CounterSeries {
  labels: Labels
  count: number
}

interface LatencySeries {
  labels: Labels
  /** Observations per bucket (not cumulative); past the last bucket only in count. */
  buckets: Float64Array
  sum: number
  count: number
}

/** A registry per runtime (tests build many apps; nothing global). */
export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry()
  if (options.processMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'scimd_' })
  const requests = new Map<string, CounterSeries>()
  const latency = new Map<string, LatencySeries>()
  const provisioning = new Map<string, CounterSeries>()
  const counterSamples = (series: Map<string, CounterSeries>) => () =>
    [...series.values()].map((s) => ({ labels: s.labels, value: s.count }))

  registry.registerMetric(
    scrapedMetric(
      'scimd_http_requests_total',
      'HTTP requests answered, by source slug, route pattern, method and status',
      'counter',
      counterSamples(requests),
    ) as never,
  )
  registry.registerMetric(
    scrapedMetric(
      'scimd_http_request_duration_seconds',
      'Time from the request reaching scimd to its response being ready, by route pattern',
      'histogram',
      () =>
        [...latency.values()].flatMap((s) => {
          const out: Sample[] = []
          let cumulative = 0
          BUCKETS.forEach((le, i) => {
            cumulative += s.buckets[i] ?? 0
            out.push({
              metricName: 'scimd_http_request_duration_seconds_bucket',
              labels: { le: String(le), ...s.labels },
              value: cumulative,
            })
          })
          out.push(
            {
              metricName: 'scimd_http_request_duration_seconds_bucket',
              labels: { le: '+Inf', ...s.labels },
              value: s.count,
            },
            {
              metricName: 'scimd_http_request_duration_seconds_sum',
              labels: s.labels,
              value: s.sum,
            },
            {
              metricName: 'scimd_http_request_duration_seconds_count',
              labels: s.labels,
              value: s.count,
            },
          )
          return out
        }),
    ) as never,
  )
  registry.registerMetric(
    scrapedMetric(
      'scimd_provisioning_operations_total',
      'Committed SCIM writes, by source slug, resource type and operation',
      'counter',
      counterSamples(provisioning),
    ) as never,
  )

  return {
    registry,
    contentType: registry.contentType,
    observeRequest({ source, endpoint, method, status, seconds }) {
      const key = `${source}\n${endpoint}\n${method}\n${status}`
      const counter = requests.get(key)
      if (counter) counter.count++
      else {
        requests.set(key, {
          labels: { source, endpoint, method, status: String(status) },
          count: 1,
        })
      }
      const timeKey = `${endpoint}\n${method}`
      let series = latency.get(timeKey)
      if (!series) {
        series = {
          labels: { endpoint, method },
          buckets: new Float64Array(BUCKETS.length),
          sum: 0,
          count: 0,
        }
        latency.set(timeKey, series)
      }
      series.count++
      series.sum += seconds
      for (let i = 0; i < BUCKETS.length; i++) {
        if (seconds <= (BUCKETS[i] as number)) {
          series.buckets[i] = (series.buckets[i] ?? 0) + 1
          break
        }
      }
    },
    provisioned(source, resource, operation) {
      const key = `${source}\n${resource}\n${operation}`
      const counter = provisioning.get(key)
      if (counter) counter.count++
      else provisioning.set(key, { labels: { source, resource, operation }, count: 1 })
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
