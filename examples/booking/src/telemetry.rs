//! `--print-metrics`: records the engine's metrics in memory (the
//! `metrics` facade with an in-process recorder) and prints them at the
//! end; a service would install an exporter (Prometheus, OpenTelemetry)
//! instead.

use std::fmt::Write as _;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// Installs the in-memory recorder; `None` if another one is installed.
pub fn record_metrics() -> Option<Snapshotter> {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().ok().map(|()| snapshotter)
}

/// Every metric recorded so far, one per line, sorted: counters and
/// gauges with their value, histograms with their count, median and 99th
/// percentile.
pub fn metrics_report(snapshotter: &Snapshotter) -> String {
    let mut lines: Vec<String> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let labels: Vec<String> = key
                .key()
                .labels()
                .map(|label| format!("{}={}", label.key(), label.value()))
                .collect();
            let name = format!("{}{{{}}}", key.key().name(), labels.join(","));
            let shown = match value {
                DebugValue::Counter(count) => count.to_string(),
                DebugValue::Gauge(gauge) => format!("{:.3}", gauge.into_inner()),
                DebugValue::Histogram(samples) => {
                    let mut samples: Vec<f64> =
                        samples.into_iter().map(|s| s.into_inner()).collect();
                    samples.sort_by(f64::total_cmp);
                    let at = |q: f64| {
                        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
                        samples.get(index).copied().unwrap_or_default()
                    };
                    format!(
                        "count {} p50 {:.4} p99 {:.4}",
                        samples.len(),
                        at(0.5),
                        at(0.99)
                    )
                }
            };
            format!("  {name:<70} {shown}")
        })
        .collect();
    lines.sort();
    let mut report = String::from("metrics\n");
    for line in lines {
        let _ = writeln!(report, "{line}");
    }
    report
}
