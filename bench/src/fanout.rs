//! (h) fan-out: a batch process of the real shape. Each of `--fanout-jobs`
//! jobs (5,000) starts with one event and sends [`FILES_PER_JOB`]
//! `ProcessFile` commands, ordered per file (so they may go out side by
//! side); the dispatcher delivers them while the process loop records them,
//! from an empty outbox, on the default `PgBackend::connect`.
//!
//! Its ceiling is the same work done by each half alone, one after the
//! other: the process loop recording every command with no dispatcher, then
//! the dispatcher draining what it recorded. Run together they overlap
//! (which can bring the live run under its ceiling) but share the machine,
//! the outbox and its heads (which costs); the ratio shows what sharing
//! costs. Claim
//! latency (`pm_claim_duration_seconds`, through a `metrics` recorder) is
//! printed for the first and the last quarter of the live run.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _, Result};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use pm_core::prelude::*;
use pm_core::{CommandMeta, Dispatch, DispatchError, EngineOptions};
use pm_postgres::PgBackend;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;

use crate::report::{millis, per_second, Target};
use crate::resources::Meter;
use crate::{db, Args};

/// Commands each job sends.
pub const FILES_PER_JOB: u32 = 10;
/// The live run's time over its ceiling's, at most.
const CEILING_RATIO_TARGET: f64 = 1.5;

/// Events of the job service.
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub enum JobEvent {
    /// A job with its files arrived.
    Submitted(JobSubmitted),
}

/// Payload of [`JobEvent::Submitted`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSubmitted {
    /// How many files the job has.
    pub files: u32,
}

/// Process one file of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessFile {
    /// The file, unique across jobs: its commands' ordering key.
    pub file: String,
}

/// A job: sends one command per file and is done.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Files sent for processing.
    pub files: u32,
}

#[process_manager(
    name = "fanout-bench",
    id = String,
    subscribe(JobEvent),
    order(ProcessFile(by = file)),
)]
impl Job {
    #[on(JobEvent::Submitted, start, sends(ProcessFile))]
    fn submitted(&mut self, event: &JobSubmitted, cx: &mut Context<Self>) {
        for file in 0..event.files {
            let file = format!("{}/file-{file}", cx.id());
            cx.send(ProcessFile { file });
        }
        self.files = event.files;
        cx.complete();
    }
}

/// A gateway that accepts every command at once.
#[derive(Debug, Clone, Copy)]
struct NoOp;

impl Dispatch<JobCommand> for NoOp {
    async fn dispatch(&self, _: JobCommand, _: CommandMeta) -> Result<(), DispatchError> {
        Ok(())
    }
}

/// Installs the recorder (once per process) and returns its snapshotter.
pub fn install_recorder() -> Result<Snapshotter> {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder
        .install()
        .map_err(|error| anyhow::anyhow!("installing the metrics recorder: {error}"))?;
    Ok(snapshotter)
}

/// (h): the stages alone, then the live run; returns the target.
pub async fn fan_out(
    args: &Args,
    backend: &PgBackend,
    pool: &PgPool,
    snapshotter: &Snapshotter,
) -> Result<Target> {
    let jobs = args.fanout_jobs;
    let commands = jobs * u64::from(FILES_PER_JOB);
    println!(
        "\n(h) fan-out: {jobs} jobs of {FILES_PER_JOB} files, one command per file ordered by file, no-op gateway, from an empty outbox, default options"
    );
    sqlx::query("TRUNCATE pm.events")
        .execute(pool)
        .await
        .context("emptying the log for (h)")?;
    append_jobs(pool, jobs).await?;

    db::reset_state(pool).await?;
    let meter = Meter::start();
    let recorded = run_until(backend, Stage::Record, commands).await?;
    let recording = meter.stop();
    println!(
        "  process loop alone: {commands} commands recorded in {:.2} s = {:.0} commands/s | {}",
        recorded.as_secs_f64(),
        per_second(commands, recorded),
        recording.line()
    );
    let meter = Meter::start();
    let drained = run_until(backend, Stage::Deliver, commands).await?;
    let draining = meter.stop();
    println!(
        "  dispatcher alone:   {commands} commands delivered in {:.2} s = {:.0} commands/s | {}",
        drained.as_secs_f64(),
        per_second(commands, drained),
        draining.line()
    );

    db::reset_state(pool).await?;
    snapshotter.snapshot();
    let meter = Meter::start();
    let started = Instant::now();
    let engine = Engine::new(backend.store(), backend.log())
        .register::<Job, _>(NoOp)
        .start()
        .context("starting the fan-out engine")?;
    let mut claims: Vec<(Duration, Vec<f64>)> = Vec::new();
    let deadline = started + Duration::from_secs(1800);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        claims.push((started.elapsed(), claim_seconds(snapshotter)));
        let metrics = engine.metrics(Job::NAME).unwrap_or_default();
        ensure!(
            metrics.commands_dead_lettered == 0,
            "commands were dead-lettered"
        );
        if metrics.commands_delivered >= commands {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "the fan-out run did not finish in 30 minutes"
        );
    }
    let live = started.elapsed();
    let usage = meter.stop();
    engine
        .shutdown()
        .await
        .context("the fan-out engine failed")?;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pm.outbox")
        .fetch_one(pool)
        .await
        .context("counting the outbox")?;
    ensure!(left == 0, "{left} fan-out commands are left in the outbox");
    println!(
        "  live, together:     {commands} commands delivered in {:.2} s = {:.0} commands/s | {}",
        live.as_secs_f64(),
        per_second(commands, live),
        usage.line()
    );
    let quarter = live / 4;
    let early = latencies(&claims, |at| at <= quarter);
    let late = latencies(&claims, |at| at > live.saturating_sub(quarter));
    println!(
        "  claim latency, first quarter: {}; last quarter: {}",
        percentiles(early),
        percentiles(late)
    );
    let ceiling = recorded + drained;
    Ok(Target::at_most(
        "(h) fan-out live time / its ceiling".to_owned(),
        CEILING_RATIO_TARGET,
        Some(live.as_secs_f64() / ceiling.as_secs_f64().max(f64::EPSILON)),
        "x",
    ))
}

/// Which half of the engine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Record,
    Deliver,
}

/// Runs one stage alone until it has done `commands` commands.
async fn run_until(backend: &PgBackend, stage: Stage, commands: u64) -> Result<Duration> {
    let engine = Engine::new(backend.store(), backend.log()).with_options(EngineOptions::default());
    let engine = match stage {
        Stage::Record => engine.register_process::<Job>(),
        Stage::Deliver => engine.register_dispatcher::<Job, _>(NoOp),
    }
    .start()
    .context("starting a fan-out stage")?;
    let started = Instant::now();
    loop {
        let metrics = engine.metrics(Job::NAME).unwrap_or_default();
        let done = match stage {
            Stage::Record => metrics.commands_recorded,
            Stage::Deliver => metrics.commands_delivered,
        };
        if done >= commands {
            break;
        }
        ensure!(
            started.elapsed() < Duration::from_secs(1800),
            "a fan-out stage did not finish in 30 minutes"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed();
    engine.shutdown().await.context("a fan-out stage failed")?;
    Ok(elapsed)
}

/// Appends one `Submitted` event per job, each on its own stream.
async fn append_jobs(pool: &PgPool, jobs: u64) -> Result<()> {
    let streams: Vec<String> = (0..jobs).map(|job| format!("job-{job}")).collect();
    let payload = json!({ "files": FILES_PER_JOB });
    let payloads = vec![payload; streams.len()];
    sqlx::query(
        "INSERT INTO pm.events (stream_id, stream_version, event_type, payload) \
         SELECT s, 1, 'JobEvent.Submitted', p FROM unnest($1::text[], $2::jsonb[]) AS e (s, p)",
    )
    .bind(&streams)
    .bind(&payloads)
    .execute(pool)
    .await
    .context("appending the fan-out jobs")?;
    Ok(())
}

/// The claim durations recorded since the last snapshot, in seconds.
fn claim_seconds(snapshotter: &Snapshotter) -> Vec<f64> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, _, _, _)| key.key().name() == "pm_claim_duration_seconds")
        .flat_map(|(_, _, _, value)| match value {
            DebugValue::Histogram(samples) => samples
                .into_iter()
                .map(|sample| sample.into_inner())
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// The samples taken at times `when` accepts.
fn latencies(claims: &[(Duration, Vec<f64>)], when: impl Fn(Duration) -> bool) -> Vec<f64> {
    claims
        .iter()
        .filter(|(at, _)| when(*at))
        .flat_map(|(_, samples)| samples.iter().copied())
        .collect()
}

/// `p50 X ms, p99 Y ms (N claims)`.
fn percentiles(mut samples: Vec<f64>) -> String {
    if samples.is_empty() {
        return "no claims".to_owned();
    }
    samples.sort_by(f64::total_cmp);
    let at = |quantile: f64| {
        let index = ((samples.len() - 1) as f64 * quantile).round() as usize;
        samples.get(index).copied().unwrap_or_default()
    };
    format!(
        "p50 {:.1} ms, p99 {:.1} ms ({} claims)",
        millis(Duration::from_secs_f64(at(0.5))),
        millis(Duration::from_secs_f64(at(0.99))),
        samples.len()
    )
}
