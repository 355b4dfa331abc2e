/** A small Prometheus registry: counters and gauges with labels, rendered in the text exposition format. */
type Labels = Readonly<Record<string, string>>

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}="${String(labels[key]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',')
}

type GaugeReading = number | readonly { readonly labels: Labels; readonly value: number }[]

interface Series {
  readonly help: string
  readonly type: 'counter' | 'gauge'
  readonly values: Map<string, number>
}

export class Metrics {
  private readonly series = new Map<string, Series>()
  private readonly gauges = new Map<string, () => GaugeReading>()
  /** Rendered label sets, by object: hot paths pass the same label objects, so each is rendered once. */
  private readonly renderedLabels = new WeakMap<Labels, string>()

  /** A label set to reuse on a hot path (one object per distinct set, rendered once). */
  private readonly internedLabels = new Map<string, Labels>()

  labels(values: Labels): Labels {
    const key = labelKey(values)
    let interned = this.internedLabels.get(key)
    if (!interned) {
      interned = values
      this.internedLabels.set(key, interned)
      this.renderedLabels.set(interned, key)
    }
    return interned
  }

  increment(name: string, help: string, labels: Labels = {}, by = 1): void {
    const series = this.ensure(name, help, 'counter')
    let key = this.renderedLabels.get(labels)
    if (key === undefined) {
      key = labelKey(labels)
      this.renderedLabels.set(labels, key)
    }
    series.values.set(key, (series.values.get(key) ?? 0) + by)
  }

  /** A gauge read when scraped: one value, or one per label set. */
  gauge(name: string, help: string, read: () => GaugeReading): void {
    this.ensure(name, help, 'gauge')
    this.gauges.set(name, read)
  }

  value(name: string, labels: Labels = {}): number {
    return this.series.get(name)?.values.get(labelKey(labels)) ?? 0
  }

  render(): string {
    const lines: string[] = []
    for (const [name, series] of this.series) {
      lines.push(`# HELP ${name} ${series.help}`, `# TYPE ${name} ${series.type}`)
      const read = this.gauges.get(name)
      if (read) {
        const reading = read()
        if (typeof reading === 'number') lines.push(`${name} ${reading}`)
        else for (const { labels, value } of reading) lines.push(`${name}{${labelKey(labels)}} ${value}`)
      }
      for (const [key, value] of series.values) lines.push(key === '' ? `${name} ${value}` : `${name}{${key}} ${value}`)
    }
    return `${lines.join('\n')}\n`
  }

  private ensure(name: string, help: string, type: Series['type']): Series {
    let series = this.series.get(name)
    if (!series) {
      series = { help, type, values: new Map() }
      this.series.set(name, series)
    }
    return series
  }
}
