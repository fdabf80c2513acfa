//! The quickstart: a small instrumented shop, traced into jKool.
//!
//! ```text
//! cargo run --example quickstart                 # local collector, prints the tree it received
//! cargo run --example quickstart -- --serve      # ... then keeps it running: see the traces in a browser
//! JKOOL_TOKEN=... cargo run --example quickstart # streams to jKool (JKOOL_URL to pick the endpoint)
//! ```

use std::time::Duration;

use tracing::{info, instrument, warn, Instrument};
use tracing_jkool::JKoolLayer;
use tracing_jkool_collector::Collector;
use tracing_subscriber::prelude::*;

#[instrument]
fn check_stock(item: &str) -> bool {
    std::thread::sleep(Duration::from_millis(2));
    info!(in_stock = 12, "stock checked");
    true
}

#[instrument(fields(jkool.corr_id = %format!("order-{order_no}")))]
async fn place_order(order_no: u64, amount: f64) {
    check_stock("book");
    let payment = tokio::spawn(
        async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            if amount > 100.0 {
                warn!(amount, "payment needs review");
            }
            info!(provider = "card", "payment captured");
        }
        .instrument(tracing::info_span!("charge_card", amount)),
    );
    payment.await.ok();
    info!(order_no, amount, "order processed");
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // The error and each of its causes, not a Debug struct.
            let mut text = err.to_string();
            let mut cause = err.source();
            while let Some(source) = cause {
                text = format!("{text}: {source}");
                cause = source.source();
            }
            eprintln!("quickstart: {text}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // `--serve`: keep the local collector and its web view up after the demo.
    let serve = std::env::args().skip(1).any(|arg| arg == "--serve");
    // With a token, stream to jKool; without one, to a collector in this process.
    let (layer, collector) = match std::env::var("JKOOL_TOKEN") {
        Ok(token) => (JKoolLayer::new(token), None),
        Err(_) => {
            let collector = Collector::start()?;
            let layer = JKoolLayer::builder("local-token")
                .url(collector.url())
                .build()?;
            (layer, Some(collector))
        }
    };
    let jkool = layer.handle();
    tracing_subscriber::registry().with(layer).init();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        place_order(5, 12.5).await;
        place_order(6, 250.0).await;
    });

    jkool.shutdown(Duration::from_secs(5))?;
    let stats = jkool.stats();
    println!(
        "sent {} item(s): {} queued, {} dropped, {} failed",
        stats.sent, stats.queued, stats.dropped, stats.failed
    );
    if let Some(collector) = collector {
        println!("\nThe local collector at {} received:\n", collector.url());
        println!("{}", collector.render_tree());
        if serve {
            println!("See these traces in a browser: {}", collector.view_url());
            println!("The collector keeps running; press Ctrl-C to stop.");
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
    } else if serve {
        eprintln!("--serve shows the local collector's web view: unset JKOOL_TOKEN to use it");
    }
    Ok(())
}
