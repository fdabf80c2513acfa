//! One request across two services, shown as one trace: an axum server and
//! a reqwest client, each with its own subscriber, `JKoolLayer` and local
//! collector, in one process. The client injects `traceparent`, the server
//! extracts it and continues the trace; both services' items carry the same
//! trace id in `corrid`, which joins their trees.
//!
//! ```text
//! cargo run --example two_services
//! ```

mod common;

use std::time::Duration;

use serde_json::Value;
use tracing::{info, info_span, Dispatch};
use tracing_jkool::propagation::{self, JKoolSpanExt};
use tracing_jkool::{JKoolHandle, JKoolLayer};
use tracing_jkool_collector::{render_tree, Collector};
use tracing_subscriber::prelude::*;

fn main() -> std::process::ExitCode {
    common::report(run())
}

/// A service's own subscriber, sending to its own collector.
fn service(
    name: &str,
    collector: &Collector,
) -> Result<(Dispatch, JKoolHandle), tracing_jkool::Error> {
    let layer = JKoolLayer::builder("local-token")
        .url(collector.url())
        .source_fqn(format!("APPL={name}"))
        .build()?;
    let handle = layer.handle();
    Ok((
        Dispatch::new(tracing_subscriber::registry().with(layer)),
        handle,
    ))
}

async fn checkout(headers: axum::http::HeaderMap) -> &'static str {
    let span = info_span!("checkout");
    if let Some(remote) = propagation::extract(&headers) {
        span.set_parent_context(remote);
    }
    span.in_scope(|| {
        info!(order_no = 5, "order received");
        info_span!("charge card").in_scope(|| info!(amount = 12.5, "card charged"));
    });
    "paid"
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (server_jkool, client_jkool) = (Collector::start()?, Collector::start()?);
    let (server, server_handle) = service("Shop", &server_jkool)?;
    let (client, client_handle) = service("Storefront", &client_jkool)?;

    // The server: a runtime on a thread of its own, in its own subscriber.
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}/checkout", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server_thread = std::thread::spawn(move || -> std::io::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        tracing::dispatcher::with_default(&server, || {
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                let app = axum::Router::new().route("/checkout", axum::routing::post(checkout));
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
            })
        })
    });

    // The client: two calls, each a trace of its own.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let http = reqwest::Client::new();
    let mut traces = Vec::new();
    tracing::dispatcher::with_default(&client, || -> Result<(), reqwest::Error> {
        for cart in [1, 2] {
            let span = info_span!("buy", cart);
            let _entered = span.enter();
            let mut headers = http::HeaderMap::new();
            propagation::inject(&mut headers);
            let answer = runtime
                .block_on(async { http.post(&url).headers(headers).send().await?.text().await })?;
            info!(answer, "checkout answered");
            traces.extend(span.trace_id());
        }
        Ok(())
    })?;

    let _ = stop.send(());
    server_thread
        .join()
        .map_err(|_| "the server thread panicked")??;
    server_handle.shutdown(Duration::from_secs(5))?;
    client_handle.shutdown(Duration::from_secs(5))?;

    let (storefront, shop) = (client_jkool.items(), server_jkool.items());
    for trace in traces {
        let trace = trace.to_string();
        let in_trace = |items: &[Value]| -> Vec<Value> {
            let carries = |item: &&Value| {
                let corrid = item["corrid"].as_array();
                corrid.is_some_and(|ids| ids.iter().any(|id| id == trace.as_str()))
            };
            items.iter().filter(carries).cloned().collect()
        };
        println!("trace {trace}");
        println!(
            "  Storefront:\n{}",
            indent(&render_tree(&in_trace(&storefront)))
        );
        println!("  Shop:\n{}", indent(&render_tree(&in_trace(&shop))));
    }
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("    {line}\n")).collect()
}
