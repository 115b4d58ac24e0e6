// /metrics in the Prometheus text exposition format (version 0.0.4): counters, gauges and histograms with
// labels, rendered on each scrape. Small on purpose: no client library for a dozen series.

type Labels = Record<string, string>;

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (l: Labels) => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};
const fmt = (v: number) => (Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN');

interface Series {
  render(): string[];
}

abstract class Metric implements Series {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
  ) {}
  abstract samples(): string[];
  render(): string[] {
    return [`# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${this.name} ${this.type}`, ...this.samples()];
  }
}

export class Counter extends Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const e = this.values.get(key);
    if (e) e.value += by;
    else this.values.set(key, { labels, value: by });
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }
  samples(): string[] {
    if (!this.values.size) return [`${this.name} 0`];
    return [...this.values.values()].map((e) => `${this.name}${labelText(e.labels)} ${fmt(e.value)}`);
  }
}

/** A value read at scrape time: a gauge, or a counter kept elsewhere (the Generator's statistics). */
export class Gauge extends Metric {
  constructor(
    name: string,
    help: string,
    private readonly read: () => number,
    type: 'gauge' | 'counter' = 'gauge',
  ) {
    super(name, help, type);
  }
  samples(): string[] {
    return [`${this.name} ${fmt(this.read())}`];
  }
}

export class Histogram extends Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    name: string,
    help: string,
    private readonly bounds: number[],
  ) {
    super(name, help, 'histogram');
    this.counts = bounds.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) if (v <= this.bounds[i]) this.counts[i]++;
  }
  samples(): string[] {
    return [
      ...this.bounds.map((b, i) => `${this.name}_bucket{le="${fmt(b)}"} ${this.counts[i]}`),
      `${this.name}_bucket{le="+Inf"} ${this.count}`,
      `${this.name}_sum ${fmt(this.sum)}`,
      `${this.name}_count ${this.count}`,
    ];
  }
}

const LATENCY = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640];

/** The server's series. Generation counts come from the Generator's own statistics, read at scrape time. */
export class ServerMetrics {
  readonly requests = new Counter('mathpipe_http_requests_total', 'HTTP requests answered, by endpoint and status code');
  readonly promptTokens = new Counter('mathpipe_prompt_tokens_total', 'Prompt tokens of generation requests');
  readonly generationTokens = new Counter('mathpipe_generation_tokens_total', 'Tokens generated for requests (cancelled ones included)');
  readonly finished = new Counter('mathpipe_request_success_total', 'Choices finished, by finish reason');
  readonly cancelled = new Counter('mathpipe_requests_cancelled_total', 'Generation requests cancelled before they finished, by why (client gone, shutdown)');
  readonly latency = new Histogram('mathpipe_e2e_request_latency_seconds', 'Time from a generation request\'s arrival to its last token', LATENCY);
  readonly firstToken = new Histogram('mathpipe_time_to_first_token_seconds', 'Time from a generation request\'s arrival to its first token', LATENCY);
  /** Prompts submitted whose first token has not come yet (waiting for a slot, or prefilling). */
  waiting = 0;
  /** Prompts with at least one sample decoding. */
  running = 0;
  private readonly series: Series[];

  constructor(extra: { name: string; help: string; read: () => number; type?: 'gauge' | 'counter' }[] = []) {
    this.series = [
      this.requests,
      new Gauge('mathpipe_num_requests_waiting', 'Generation requests (one per prompt) queued for a decoding slot: the queue depth', () => this.waiting),
      new Gauge('mathpipe_num_requests_running', 'Generation requests (one per prompt) decoding in the shared batch', () => this.running),
      this.promptTokens,
      this.generationTokens,
      this.finished,
      this.cancelled,
      this.latency,
      this.firstToken,
      ...extra.map((g) => new Gauge(g.name, g.help, g.read, g.type)),
    ];
  }

  render(): string {
    return this.series.flatMap((s) => s.render()).join('\n') + '\n';
  }
}
