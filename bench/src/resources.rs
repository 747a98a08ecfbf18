//! Wall time, CPU time, peak memory and load average, read from `/proc`
//! (Linux; elsewhere CPU reads as zero and memory as `n/a`).
//!
//! CPU is counted for this process and for every `postgres` process on the
//! machine (other databases' sessions too). Peak memory is `VmHWM`, which
//! writing `5` to `/proc/self/clear_refs` resets, so each run gets its own
//! peak; each reset first folds the peak so far into the current phase's
//! maximum and the whole run's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What one run used.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// Wall time.
    pub elapsed: Duration,
    /// CPU time of the bench process (engine or baseline, and the bench).
    pub bench_cpu: Duration,
    /// CPU time of all `postgres` processes.
    pub postgres_cpu: Duration,
    /// Peak resident memory of the bench process during the run, in MiB.
    pub peak_mib: Option<f64>,
}

impl Usage {
    /// `cpu: ... | peak ... | load ...`.
    pub fn line(&self) -> String {
        format!(
            "cpu: bench {:.2} s, postgres {:.2} s | peak {} | load {}",
            self.bench_cpu.as_secs_f64(),
            self.postgres_cpu.as_secs_f64(),
            show_mib(self.peak_mib),
            load_average()
        )
    }
}

/// Measures one run, from [`Meter::start`] to [`Meter::stop`].
#[derive(Debug)]
pub struct Meter {
    started: Instant,
    bench_cpu: Duration,
    postgres_cpu: Duration,
}

impl Meter {
    /// Resets the memory peak and notes the CPU times and the clock.
    pub fn start() -> Self {
        reset_peak();
        let bench_cpu = bench_cpu();
        let postgres_cpu = postgres_cpu();
        Self {
            started: Instant::now(),
            bench_cpu,
            postgres_cpu,
        }
    }

    /// What was used since the start.
    pub fn stop(&self) -> Usage {
        let elapsed = self.started.elapsed();
        Usage {
            elapsed,
            bench_cpu: bench_cpu().saturating_sub(self.bench_cpu),
            postgres_cpu: postgres_cpu().saturating_sub(self.postgres_cpu),
            peak_mib: status_kib("VmHWM").map(kib_to_mib),
        }
    }
}

/// The 1-minute load average, as printed in `/proc/loadavg`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "n/a".to_owned())
}

/// Clock ticks per second of `/proc` figures (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: u64 = 100;

fn bench_cpu() -> Duration {
    ticks(stat_ticks("/proc/self/stat", None).unwrap_or(0))
}

fn postgres_cpu() -> Duration {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    let total = entries
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.bytes()
                .all(|byte| byte.is_ascii_digit())
                .then_some(name)
        })
        .filter_map(|pid| stat_ticks(&format!("/proc/{pid}/stat"), Some("postgres")))
        .sum();
    ticks(total)
}

fn ticks(ticks: u64) -> Duration {
    Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND)
}

/// The user + system ticks of the process whose stat file is `path`, if
/// its command name is `name` (any name when `None`).
fn stat_ticks(path: &str, name: Option<&str>) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name is in parentheses and may hold spaces.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    if name.is_some_and(|name| stat.get(open + 1..close) != Some(name)) {
        return None;
    }
    let fields: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line; `fields` starts at field 3.
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

static PHASE_PEAK_KIB: AtomicU64 = AtomicU64::new(0);
static OVERALL_PEAK_KIB: AtomicU64 = AtomicU64::new(0);

/// A field of `/proc/self/status` in KiB (`VmHWM`, `VmRSS`, ...).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

fn fold_peak() {
    if let Some(peak) = status_kib("VmHWM") {
        PHASE_PEAK_KIB.fetch_max(peak, Ordering::Relaxed);
        OVERALL_PEAK_KIB.fetch_max(peak, Ordering::Relaxed);
    }
}

fn reset_peak() {
    fold_peak();
    // Unsupported before Linux 4.0: the peak then covers the whole run.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The highest peak since the last call (the phase's), in MiB; the next
/// phase starts from the current resident size.
pub fn take_phase_peak() -> Option<f64> {
    reset_peak();
    let kib = PHASE_PEAK_KIB.swap(0, Ordering::Relaxed);
    (kib > 0).then(|| kib_to_mib(kib))
}

/// The highest peak of the whole run, in MiB.
pub fn overall_peak_mib() -> Option<f64> {
    fold_peak();
    let kib = OVERALL_PEAK_KIB.load(Ordering::Relaxed);
    (kib > 0).then(|| kib_to_mib(kib))
}

/// The current resident set size, in MiB.
pub fn resident_mib() -> Option<f64> {
    status_kib("VmRSS").map(kib_to_mib)
}

#[allow(clippy::cast_precision_loss)]
fn kib_to_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Formats an optional MiB figure.
pub fn show_mib(mib: Option<f64>) -> String {
    mib.map_or_else(|| "n/a".to_owned(), |mib| format!("{mib:.1} MiB"))
}
