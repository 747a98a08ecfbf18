//! (c) Dispatcher throughput: `register_dispatcher` with a gateway that
//! does nothing drains a prefilled outbox, with the default options.

use anyhow::{ensure, Context as _, Result};
use pm_core::{CommandMeta, Dispatch, DispatchError, Engine, EngineOptions, ProcessManager};
use pm_postgres::PgBackend;
use sqlx::PgPool;

use crate::catchup::wait_until;
use crate::prefill::{self, OUTBOX_INSTANCES};
use crate::process::{Booking, BookingCommand};
use crate::report::{per_second, Target};
use crate::resources::Meter;
use crate::{db, Args};

/// The dispatcher target, in commands/s.
const DISPATCH_TARGET: f64 = 40_000.0;

/// A gateway that accepts every command at once.
#[derive(Debug, Clone, Copy)]
struct NoOp;

impl Dispatch<BookingCommand> for NoOp {
    async fn dispatch(&self, _: BookingCommand, _: CommandMeta) -> Result<(), DispatchError> {
        Ok(())
    }
}

/// (c): drains `--commands` prefilled commands of [`Booking`].
pub async fn dispatcher(args: &Args, backend: &PgBackend, pool: &PgPool) -> Result<Target> {
    let options = EngineOptions::default();
    println!(
        "\n(c) dispatcher: {} commands of {OUTBOX_INSTANCES} instances in pm.outbox, register_dispatcher::<{}>(no-op), claim_limit {}, dispatch_concurrency {}",
        args.commands,
        Booking::NAME,
        options.claim_limit,
        options.dispatch_concurrency
    );
    db::reset_state(pool).await?;
    prefill::prefill_outbox(pool, Booking::NAME, args.commands).await?;
    sqlx::query("CHECKPOINT")
        .execute(pool)
        .await
        .context("running CHECKPOINT")?;

    let meter = Meter::start();
    let engine = Engine::new(backend.store(), backend.log())
        .with_options(options)
        .register_dispatcher::<Booking, _>(NoOp)
        .start()
        .context("starting the dispatcher")?;
    let drained = wait_until("the dispatcher to drain the outbox", || {
        let metrics = engine.metrics(Booking::NAME).unwrap_or_default();
        ensure!(
            metrics.commands_dead_lettered == 0,
            "{} commands were dead-lettered",
            metrics.commands_dead_lettered
        );
        Ok(metrics.commands_delivered >= args.commands)
    })
    .await;
    let usage = meter.stop();
    engine
        .shutdown()
        .await
        .context("the dispatcher failed while draining")?;
    drained?;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pm.outbox")
        .fetch_one(pool)
        .await
        .context("counting the outbox")?;
    ensure!(left == 0, "{left} commands are left in the outbox");

    let rate = per_second(args.commands, usage.elapsed);
    println!(
        "  {} commands in {:.2} s = {rate:.0} commands/s | {}",
        args.commands,
        usage.elapsed.as_secs_f64(),
        usage.line()
    );
    Ok(Target::at_least(
        "(c) dispatcher".to_owned(),
        DISPATCH_TARGET,
        Some(rate),
        "commands/s",
    ))
}
