//! How the sandbox lets connections in and turns them away: a bounded number served at once, a pause instead of
//! a spin when accepting fails, and a lingering close for a refused handshake.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

/// At most this many connections are served at once; more wait in the listen backlog. Far above what the tests
/// and the demo open, far below a machine's descriptors.
const MAX_CONNECTIONS: usize = 256;
/// The pause after a failed accept.
const ACCEPT_PAUSE: Duration = Duration::from_millis(50);
/// How long, and how much, a refused connection is drained before it is closed (see `linger`).
const LINGER_TIME: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 65_536; // 64 KiB: any bound will do, it only caps what a refused client costs

/// Makes the connection slots a sandbox serves with.
pub fn slots() -> Arc<tokio::sync::Semaphore> {
    Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS))
}

/// Waits for a free connection slot, then a connection. Out of descriptors (EMFILE) or any other accept error,
/// it pauses instead of spinning: the connections already open go on being served.
pub async fn accept(
    listener: &TcpListener,
    slots: &Arc<tokio::sync::Semaphore>,
) -> (TcpStream, tokio::sync::OwnedSemaphorePermit) {
    let slot = Arc::clone(slots)
        .acquire_owned()
        .await
        .expect("the semaphore is never closed");
    loop {
        match listener.accept().await {
            Ok((stream, _)) => return (stream, slot),
            Err(_) => tokio::time::sleep(ACCEPT_PAUSE).await,
        }
    }
}

/// Closes a refused connection as a careful server does (nginx's lingering close): our alert is already sent,
/// so half-close, then read and discard what the client still sends for a moment. Closing at once with the
/// client's request unread would make the kernel answer with a reset, which can overtake the alert: the client
/// would see "connection reset" instead of the refusal it was given.
pub async fn linger(mut stream: TcpStream) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let _ = stream.shutdown().await;
    let drain = async {
        let mut buf = [0u8; 4096];
        let mut total = 0usize;
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            total += n;
            if total > LINGER_BYTES {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_TIME, drain).await;
}
