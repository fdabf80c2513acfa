//! The collector's server thread, accept loop and connections.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use super::request::{handle, Reply};
use super::shared::Shared;
use super::web;

/// Starts the server thread and waits until it is ready to accept.
pub(super) fn spawn(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    stop: oneshot::Receiver<()>,
) -> std::io::Result<JoinHandle<()>> {
    let (ready_tx, ready_rx) = mpsc::sync_channel(1);
    let thread = std::thread::Builder::new()
        .name("jkool-collector".into())
        .spawn(move || {
            // The runtime is built and dropped on this thread only: dropping
            // a runtime on the caller's thread panics when the caller is
            // itself inside a tokio runtime.
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let listener = {
                let _context = runtime.enter();
                match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                }
            };
            let _ = ready_tx.send(Ok(()));
            runtime.block_on(serve(listener, shared, stop));
        })?;
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(thread),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => {
            let _ = thread.join();
            Err(std::io::Error::other(
                "collector thread died while starting",
            ))
        }
    }
}

/// Accepts connections until `stop` fires. Returning drops the runtime,
/// which cancels every connection task and closes its socket.
async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
) {
    loop {
        let stream = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Usually out of file descriptors: back off instead of
                    // spinning, the condition may clear.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        tokio::spawn(connection(stream, Arc::clone(&shared)));
    }
}

/// Serves one connection's requests in turn. A [`Reply::Reset`] ends the
/// connection with a TCP reset.
async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    // Small answers go at once, as a real endpoint's do: with Nagle's
    // algorithm, an answer written while the one before is unacknowledged
    // waits for the client's delayed ACK.
    let _ = stream.set_nodelay(true);
    let Some((stream, spare)) = keep_spare(stream) else {
        return;
    };
    let reset = Arc::new(AtomicBool::new(false));
    let service = {
        let reset = Arc::clone(&reset);
        service_fn(move |req: Request<Incoming>| {
            // The web view's pages take no fault and join no log.
            let view = web::route(req.method(), req.uri()).map(|route| web::answer(&shared, route));
            // Stamped and drawn here, in the order hyper hands over
            // requests, not when a task first runs.
            let answer = view.is_none().then(|| {
                let (at, fault) = shared.arrive();
                // A task of its own lets a request (a delayed one, say)
                // finish and be logged even if the client hangs up meanwhile.
                tokio::spawn(handle(Arc::clone(&shared), req, at, fault))
            });
            let reset = Arc::clone(&reset);
            async move {
                let Some(answer) = answer else {
                    return view.ok_or(Abort);
                };
                match answer.await {
                    Ok(Reply::Answer(response)) => Ok(response),
                    Ok(Reply::Reset) => {
                        reset.store(true, Ordering::SeqCst);
                        Err(Abort)
                    }
                    // The handler panicked: its message is already printed.
                    Err(_) => Err(Abort),
                }
            }
        })
    };
    // A service error makes hyper drop the connection without answering.
    // Clients closing mid-request are expected, not a collector failure.
    let _ = http1::Builder::new()
        // Answers to requests that came together go out together.
        .pipeline_flush(true)
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if reset.load(Ordering::SeqCst) {
        if let Some(spare) = spare {
            abort(spare);
        }
    }
}

/// Splits off a second handle on the socket, so it can still be aborted
/// once hyper has dropped its own (the socket closes with its last handle).
/// Without one a scripted reset degrades to a plain close.
fn keep_spare(stream: TcpStream) -> Option<(TcpStream, Option<std::net::TcpStream>)> {
    let stream = stream.into_std().ok()?;
    let spare = stream.try_clone().ok();
    let stream = TcpStream::from_std(stream).ok()?;
    Some((stream, spare))
}

/// Closes the socket with a reset: linger 0 drops unsent data and sends RST
/// instead of FIN.
fn abort(spare: std::net::TcpStream) {
    if let Ok(spare) = TcpStream::from_std(spare) {
        // On failure this is a plain close, still no answer.
        let _ = spare.set_zero_linger();
    }
}

/// The error a service returns to make hyper drop a connection unanswered.
#[derive(Debug)]
struct Abort;

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection aborted by an injected fault")
    }
}

impl std::error::Error for Abort {}
