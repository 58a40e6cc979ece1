//! Serving the API: an accept loop per listener, HTTP/1.1 per connection
//! (with upgrades, for the hijacked attach and exec streams), every request
//! answered by [`router::handle`]. Stops accepting when `shutdown` resolves.

use std::future::Future;
use std::sync::Arc;

use berth_engine::Engine;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::listener::Listener;
use crate::router;

/// Serves every listener until `shutdown` resolves; connections still open
/// then are dropped when the runtime stops.
pub async fn serve(
    listeners: Vec<Listener>,
    engine: Arc<Engine>,
    shutdown: impl Future<Output = ()>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    for listener in listeners {
        tasks.spawn(accept_loop(listener, engine.clone()));
    }
    shutdown.await;
    tasks.abort_all();
}

async fn accept_loop(listener: Listener, engine: Arc<Engine>) {
    match listener {
        Listener::Unix { listener, .. } => loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(serve_connection(stream, engine.clone()));
                }
                Err(e) => accept_failed(e).await,
            }
        },
        Listener::Tls { listener, acceptor } => loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    let acceptor = acceptor.clone();
                    let engine = engine.clone();
                    tokio::spawn(async move {
                        match acceptor.accept(stream).await {
                            Ok(tls) => serve_connection(tls, engine).await,
                            Err(e) => tracing::info!("TLS handshake with {peer} failed: {e}"),
                        }
                    });
                }
                Err(e) => accept_failed(e).await,
            }
        },
    }
}

/// Out of file descriptors and the like: log, wait a little, go on.
async fn accept_failed(e: std::io::Error) {
    tracing::warn!("accepting a connection: {e}");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
}

async fn serve_connection<S>(stream: S, engine: Arc<Engine>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| {
        let engine = engine.clone();
        async move { Ok::<_, std::convert::Infallible>(router::handle(engine, req).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    if let Err(e) = conn.await
        && !e.is_incomplete_message()
    {
        tracing::debug!("connection ended: {e}");
    }
}
