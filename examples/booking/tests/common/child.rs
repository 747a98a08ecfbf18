//! Child processes of the booking binary: a worker, the driver or a plain
//! run, killed when dropped (so a failing test leaves none behind), with
//! their output captured.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::time::Instant;

use super::POLL;

/// The seed of every run: the workers draw the services' outcomes from it.
pub const SEED: &str = "7";

/// The customers' time to pay, short so that payment deadlines fire often.
pub const PAYMENT_WINDOW_MS: &str = "200";

/// How long a driver or plain run may take before it reports failure; the
/// tests wait a little longer for it to exit.
pub const DEADLINE_SECS: u64 = 100;

/// How long a worker may take to stop after SIGTERM.
pub const STOP_PATIENCE: Duration = Duration::from_secs(30);

/// A running booking process.
pub struct Booking {
    role: String,
    child: Child,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

/// How a booking process ended.
pub struct Finished {
    pub role: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Booking {
    /// Starts the booking binary with `args`; `role` names it in failures.
    /// Its warnings (and the engine's) go to its stderr.
    pub fn start(role: &str, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_booking"))
            .args(args)
            .env("RUST_LOG", "warn")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("starting {role}: {error}"));
        let stdout = child.stdout.take().map(drain);
        let stderr = child.stderr.take().map(drain);
        Self {
            role: role.to_owned(),
            child,
            stdout,
            stderr,
        }
    }

    /// `booking worker` on `url`, holding partitions for `lease_ms`.
    pub fn worker(role: &str, url: &str, lease_ms: u64) -> Self {
        let lease = lease_ms.to_string();
        Self::start(
            role,
            &[
                "worker",
                "--database-url",
                url,
                "--seed",
                SEED,
                "--partition-lease-ms",
                &lease,
                // Commands a killed worker had claimed go out again soon.
                "--command-lease-ms",
                &lease,
            ],
        )
    }

    /// `booking drive` of `bookings` bookings on `url`.
    pub fn drive(url: &str, bookings: u64) -> Self {
        let bookings = bookings.to_string();
        let deadline = DEADLINE_SECS.to_string();
        Self::start(
            "the driver",
            &[
                "drive",
                "--database-url",
                url,
                "--bookings",
                &bookings,
                "--seed",
                SEED,
                "--payment-window-ms",
                PAYMENT_WINDOW_MS,
                "--deadline-secs",
                &deadline,
                "--no-progress",
            ],
        )
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (`TERM`, `STOP`, `CONT`, ...) with kill(1).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap_or_else(|error| panic!("running kill -{signal}: {error}"));
        assert!(status.success(), "kill -{signal} {} failed", self.role);
    }

    /// Kills the process with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        self.child
            .kill()
            .unwrap_or_else(|error| panic!("SIGKILL {}: {error}", self.role));
        self.child.wait().unwrap();
    }

    /// Waits (without blocking the test's runtime) until the process exits
    /// and returns its output; fails after `patience`.
    pub async fn finish(mut self, patience: Duration) -> Finished {
        let deadline = Instant::now() + patience;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let stderr = self.kill_and_read().1;
                panic!(
                    "{} did not exit within {patience:?}; its stderr:\n{stderr}",
                    self.role
                );
            }
            tokio::time::sleep(POLL).await;
        };
        let (stdout, stderr) = self.read_output();
        Finished {
            role: self.role.clone(),
            status,
            stdout,
            stderr,
        }
    }

    /// Stops a worker with SIGTERM and checks it drained and exited 0.
    pub async fn stop(self) -> Finished {
        self.signal("TERM");
        let finished = self.finish(STOP_PATIENCE).await;
        assert!(
            finished.status.success(),
            "{} exited with {} after SIGTERM; its stderr:\n{}",
            finished.role,
            finished.status,
            finished.stderr
        );
        finished
    }

    fn kill_and_read(&mut self) -> (String, String) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        self.read_output()
    }

    /// The output so far; the pipes close once the process has exited.
    fn read_output(&mut self) -> (String, String) {
        let read = |reader: Option<JoinHandle<Vec<u8>>>| {
            reader
                .and_then(|reader| reader.join().ok())
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_default()
        };
        (read(self.stdout.take()), read(self.stderr.take()))
    }
}

impl Drop for Booking {
    /// Kills a process the test did not wait for (it failed part way), and
    /// shows what the process said.
    fn drop(&mut self) {
        if self.stdout.is_none() && self.stderr.is_none() {
            return;
        }
        let (stdout, stderr) = self.kill_and_read();
        if std::thread::panicking() {
            eprintln!(
                "--- {} (killed) stdout:\n{}\n--- stderr:\n{}",
                self.role,
                tail(&stdout),
                tail(&stderr)
            );
        }
    }
}

impl Finished {
    /// Checks a driver's or plain run's report: exit 0, no invariant
    /// FAILED, no stall, and G1 (state against the log) checked and OK.
    pub fn assert_every_invariant_holds(&self) {
        let Self {
            role,
            status,
            stdout,
            stderr,
        } = self;
        assert!(
            status.success(),
            "{role} exited with {status}:\n{stdout}\n{stderr}"
        );
        assert!(!stdout.contains("FAILED"), "{role}:\n{stdout}");
        assert!(!stdout.contains("run stalled"), "{role}:\n{stdout}");
        let g1 = stdout
            .lines()
            .map(str::trim_start)
            .any(|line| line.starts_with("OK") && line.contains("G1:"));
        assert!(g1, "{role} reported no G1 check that held:\n{stdout}");
    }
}

/// Reads a pipe to its end on a thread of its own, so the child never
/// blocks on a full pipe.
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// The last few thousand characters of `text`.
fn tail(text: &str) -> &str {
    let start = text.len().saturating_sub(4_000);
    let start = (start..text.len())
        .find(|index| text.is_char_boundary(*index))
        .unwrap_or(text.len());
    &text[start..]
}
