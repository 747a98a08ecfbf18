//! A TCP proxy between a client and Postgres that injects the network
//! faults users meet: a COMMIT the server carries out whose reply never
//! arrives (the connection is cut after the server answered), and a
//! transaction held back at its BEGIN (so the client stays in the middle of
//! a batch for as long as a test wants).
//!
//! It reads the frontend protocol just enough to see simple-query messages
//! (`Q`), which is how sqlx sends BEGIN and COMMIT; connect through it with
//! `sslmode=disable` so the bytes are readable.

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
    /// COMMITs still to cut after the server answers.
    cuts_armed: AtomicU32,
    /// COMMITs cut so far.
    cuts_done: AtomicU32,
    /// Whether to hold transactions at BEGIN.
    hold_begin: AtomicBool,
    /// How many connections wait at a BEGIN right now.
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

    /// Cuts the connection of each of the next `count` COMMITs once the
    /// server has answered it, dropping the answer: the client cannot tell
    /// whether its transaction committed.
    pub fn cut_after_commits(&self, count: u32) {
        self.faults.cuts_armed.fetch_add(count, Ordering::SeqCst);
    }

    /// How many COMMITs have been cut.
    pub fn commits_cut(&self) -> u32 {
        self.faults.cuts_done.load(Ordering::SeqCst)
    }

    /// From now on, holds each transaction at its BEGIN until
    /// [`release_transactions`](Self::release_transactions).
    pub fn hold_transactions(&self) {
        self.faults.hold_begin.store(true, Ordering::SeqCst);
    }

    /// How many connections are held at a BEGIN now.
    pub fn transactions_held(&self) -> u32 {
        self.faults.holding.load(Ordering::SeqCst)
    }

    /// Lets held transactions (and later ones) through.
    pub fn release_transactions(&self) {
        self.faults.hold_begin.store(false, Ordering::SeqCst);
        self.faults.released.notify_waiters();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.release_transactions();
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

/// Reads whole frontend messages and forwards them, holding BEGINs and
/// arming the cut before a COMMIT goes out.
async fn client_to_server(
    mut client: OwnedReadHalf,
    mut server: OwnedWriteHalf,
    faults: Arc<Faults>,
    cut: Arc<AtomicBool>,
) {
    // The startup message (and an SSL request) have no type byte.
    let mut startup = true;
    loop {
        let message = match read_message(&mut client, startup).await {
            Ok(message) => message,
            Err(_) => return,
        };
        let ssl_request = startup && message.len() == 8 && message[4..8] == [4, 210, 22, 47];
        startup = ssl_request;
        if let Some(query) = simple_query(&message) {
            let query = query.trim_start().to_ascii_uppercase();
            if query.starts_with("BEGIN") && faults.hold_begin.load(Ordering::SeqCst) {
                faults.holding.fetch_add(1, Ordering::SeqCst);
                while faults.hold_begin.load(Ordering::SeqCst) {
                    let released = faults.released.notified();
                    if !faults.hold_begin.load(Ordering::SeqCst) {
                        break;
                    }
                    released.await;
                }
                faults.holding.fetch_sub(1, Ordering::SeqCst);
            }
            if query.starts_with("COMMIT") && take_one(&faults.cuts_armed) {
                cut.store(true, Ordering::SeqCst);
            }
        }
        if server.write_all(&message).await.is_err() {
            return;
        }
    }
}

/// Forwards the server's bytes; once a cut is armed, the next answer (to
/// the COMMIT) is swallowed and both connections are closed.
async fn server_to_client(
    mut server: OwnedReadHalf,
    mut client: OwnedWriteHalf,
    faults: Arc<Faults>,
    cut: Arc<AtomicBool>,
) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = match server.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        if cut.load(Ordering::SeqCst) {
            // The server has answered the COMMIT: it committed. The client
            // never hears so.
            faults.cuts_done.fetch_add(1, Ordering::SeqCst);
            let _ = client.shutdown().await;
            return;
        }
        if client.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

/// One frontend message: type byte (unless at startup), length, body.
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

/// The text of a simple-query message.
fn simple_query(message: &[u8]) -> Option<String> {
    if message.first() != Some(&b'Q') || message.len() < 6 {
        return None;
    }
    let text = &message[5..message.len() - 1];
    Some(String::from_utf8_lossy(text).into_owned())
}

fn take_one(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(1)
        })
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::simple_query;

    #[test]
    fn reads_the_text_of_a_simple_query() {
        let mut message = vec![b'Q', 0, 0, 0, 11];
        message.extend_from_slice(b"COMMIT\0");
        assert_eq!(simple_query(&message).as_deref(), Some("COMMIT"));
        assert_eq!(simple_query(b"P\0\0\0\x04"), None);
    }
}
