extension UsageReport {
    /// The fields shared by the usage answer and the rollup line (docs/metrics.md).
    func write(into w: inout JSONWriter) {
        w.field("period_days", periodDays)
        w.key("window")
        w.object { w in
            w.field("start", start.description)
            w.field("end", end.description)
        }
        w.key("dau")
        w.number(dau, places: 1)
        w.key("wau")
        w.number(wau, places: 1)
        w.field("mau", mau)
        w.counts("feature_usage", featureUsage)
        w.counts("funnel_steps", funnelSteps)
        w.field("total_events", totalEvents)
        w.field("unique_days", uniqueDays)
        w.field("unique_weeks", uniqueWeeks)
    }
}

extension JSONWriter {
    /// `"key":{"name":count,...}` in the given order.
    mutating func counts(_ key: String, _ counts: [(String, Int)]) {
        self.key(key)
        object { w in for (name, n) in counts { w.field(name, n) } }
    }
}
