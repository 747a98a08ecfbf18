//! A TCP proxy between a client and Postgres that injects the network
//! faults users meet: a batch commit the server carries out whose reply
//! never arrives (the connection is cut once the server has committed),
//! and a batch commit held back before it reaches the server (so the
//! client stays in the middle of a batch for as long as a test wants).
//!
//! A batch commit is one statement, `pm.commit_batch(..)`, in its own
//! implicit transaction. The proxy reads the protocol just enough to see it:
//! the `Parse` that names a statement calling it and each `Bind` of that
//! statement; on the way back, the `ReadyForQuery` that ends its cycle.
//! Connect through it with `sslmode=disable` so the bytes are readable.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// A running proxy; dropping it stops accepting connections.
#[derive(Debug)]
pub struct FaultProxy {
    local: SocketAddr,
    faults: Arc<Faults>,
    accept: JoinHandle<()>,
}

#[derive(Debug, Default)]
struct Faults {
    /// Batch commits still to cut after the server committed them.
    cuts_armed: AtomicU32,
    /// Batch commits cut so far.
    cuts_done: AtomicU32,
    /// Whether to hold batch commits.
    hold: AtomicBool,
    /// How many connections hold a batch commit right now.
    holding: AtomicU32,
    released: Notify,
}

impl FaultProxy {
    /// Listens on a free local port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let local = listener.local_addr()?;
        let faults = Arc::new(Faults::default());
        let shared = Arc::clone(&faults);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let faults = Arc::clone(&shared);
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        // Forward each message as it comes, as a direct
                        // connection would: no waiting to coalesce.
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        relay(client, server, faults).await;
                    }
                });
            }
        });
        Ok(Self {
            local,
            faults,
            accept,
        })
    }

    /// `url` (a postgres:// URL) pointed at the proxy, with TLS off.
    pub fn url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
        let (credentials, after_host) = match rest.rsplit_once('@') {
            Some((credentials, host)) => (format!("{credentials}@"), host),
            None => (String::new(), rest),
        };
        let path = after_host
            .find(['/', '?'])
            .map_or("", |start| &after_host[start..]);
        let separator = if path.contains('?') { '&' } else { '?' };
        format!(
            "{scheme}://{credentials}{}{path}{separator}sslmode=disable",
            self.local
        )
    }

    /// Cuts the connection of each of the next `count` batch commits once
    /// the server has committed it, dropping the answer: the client cannot
    /// tell whether its batch committed.
    pub fn cut_after_commits(&self, count: u32) {
        self.faults.cuts_armed.fetch_add(count, Ordering::SeqCst);
    }

    /// How many batch commits have been cut.
    pub fn commits_cut(&self) -> u32 {
        self.faults.cuts_done.load(Ordering::SeqCst)
    }

    /// From now on, holds each batch commit before it reaches the server,
    /// until [`release_commits`](Self::release_commits).
    pub fn hold_commits(&self) {
        self.faults.hold.store(true, Ordering::SeqCst);
    }

    /// How many batch commits are held now.
    pub fn commits_held(&self) -> u32 {
        self.faults.holding.load(Ordering::SeqCst)
    }

    /// Lets held batch commits (and later ones) through.
    pub fn release_commits(&self) {
        self.faults.hold.store(false, Ordering::SeqCst);
        self.faults.released.notify_waiters();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.release_commits();
    }
}

/// Forwards both ways; the client-to-server half applies the faults.
async fn relay(client: TcpStream, server: TcpStream, faults: Arc<Faults>) {
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let cut = Arc::new(AtomicBool::new(false));
    let upstream = tokio::spawn(client_to_server(
        client_read,
        server_write,
        Arc::clone(&faults),
        Arc::clone(&cut),
    ));
    server_to_client(server_read, client_write, faults, cut).await;
    upstream.abort();
}

/// Reads whole frontend messages and forwards them, holding batch commits
/// and arming the cut before one goes out.
async fn client_to_server(
    mut client: OwnedReadHalf,
    mut server: OwnedWriteHalf,
    faults: Arc<Faults>,
    cut: Arc<AtomicBool>,
) {
    // The startup message (and an SSL request) have no type byte.
    let mut startup = true;
    let mut statements = CommitStatements::default();
    loop {
        let message = match read_message(&mut client, startup).await {
            Ok(message) => message,
            Err(_) => return,
        };
        let ssl_request = startup && message.len() == 8 && message[4..8] == [4, 210, 22, 47];
        startup = ssl_request;
        if statements.runs_a_commit(&message) {
            if faults.hold.load(Ordering::SeqCst) {
                faults.holding.fetch_add(1, Ordering::SeqCst);
                while faults.hold.load(Ordering::SeqCst) {
                    let released = faults.released.notified();
                    if !faults.hold.load(Ordering::SeqCst) {
                        break;
                    }
                    released.await;
                }
                faults.holding.fetch_sub(1, Ordering::SeqCst);
            }
            if take_one(&faults.cuts_armed) {
                cut.store(true, Ordering::SeqCst);
            }
        }
        if server.write_all(&message).await.is_err() {
            return;
        }
    }
}

/// Forwards the server's messages; once a cut is armed, everything up to
/// the end of the commit's cycle (ReadyForQuery, sent once the implicit
/// transaction committed) is swallowed and both connections are closed.
async fn server_to_client(
    mut server: OwnedReadHalf,
    mut client: OwnedWriteHalf,
    faults: Arc<Faults>,
    cut: Arc<AtomicBool>,
) {
    loop {
        let Ok(message) = read_message(&mut server, false).await else {
            return;
        };
        if cut.load(Ordering::SeqCst) {
            if message.first() == Some(&b'Z') {
                // The server has committed the batch. The client never
                // hears so.
                faults.cuts_done.fetch_add(1, Ordering::SeqCst);
                let _ = client.shutdown().await;
                return;
            }
            continue;
        }
        if client.write_all(&message).await.is_err() {
            return;
        }
    }
}

/// One message: type byte (unless a frontend startup message), length,
/// body.
async fn read_message(stream: &mut OwnedReadHalf, startup: bool) -> std::io::Result<Vec<u8>> {
    let mut message = Vec::new();
    if !startup {
        let mut kind = [0u8; 1];
        stream.read_exact(&mut kind).await?;
        message.push(kind[0]);
    }
    let mut length = [0u8; 4];
    stream.read_exact(&mut length).await?;
    message.extend_from_slice(&length);
    let body = usize::try_from(u32::from_be_bytes(length))
        .unwrap_or(0)
        .saturating_sub(4);
    let start = message.len();
    message.resize(start + body, 0);
    stream.read_exact(&mut message[start..]).await?;
    Ok(message)
}

/// The statements of one connection that run a batch commit: sqlx parses
/// a statement once (`Parse`: name, text) and then binds it by name
/// (`Bind`: portal, statement name) each time it runs.
#[derive(Debug, Default)]
struct CommitStatements {
    names: HashSet<String>,
}

impl CommitStatements {
    /// Whether `message` starts running a batch commit: the `Bind` of a
    /// statement whose text calls `pm.commit_batch`.
    fn runs_a_commit(&mut self, message: &[u8]) -> bool {
        let mut fields = message
            .get(5..)
            .unwrap_or_default()
            .split(|byte| *byte == 0);
        match message.first() {
            Some(b'P') => {
                let name = fields.next().unwrap_or_default();
                let text = fields.next().unwrap_or_default();
                let name = String::from_utf8_lossy(name).into_owned();
                if String::from_utf8_lossy(text).contains(COMMIT_CALL) {
                    self.names.insert(name);
                } else {
                    self.names.remove(&name);
                }
                false
            }
            Some(b'B') => {
                let _portal = fields.next();
                let statement = fields.next().unwrap_or_default();
                self.names
                    .contains(String::from_utf8_lossy(statement).as_ref())
            }
            _ => false,
        }
    }
}

/// What the text of a batch commit calls.
const COMMIT_CALL: &str = "pm.commit_batch(";

fn take_one(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(1)
        })
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::CommitStatements;

    fn message(kind: u8, fields: &[&str]) -> Vec<u8> {
        let mut body = Vec::new();
        for field in fields {
            body.extend_from_slice(field.as_bytes());
            body.push(0);
        }
        let mut message = vec![kind];
        message.extend_from_slice(&u32::try_from(body.len() + 4).unwrap().to_be_bytes());
        message.extend_from_slice(&body);
        message
    }

    #[test]
    fn a_commit_is_the_bind_of_a_statement_calling_commit_batch() {
        let mut statements = CommitStatements::default();
        let parse = message(b'P', &["sqlx_s_3", "SELECT pm.commit_batch($1, $2)"]);
        assert!(!statements.runs_a_commit(&parse));
        assert!(statements.runs_a_commit(&message(b'B', &["", "sqlx_s_3"])));
        assert!(!statements.runs_a_commit(&message(b'B', &["", "sqlx_s_4"])));
        let other = message(b'P', &["sqlx_s_3", "SELECT 1"]);
        assert!(!statements.runs_a_commit(&other));
        assert!(!statements.runs_a_commit(&message(b'B', &["", "sqlx_s_3"])));
    }
}
