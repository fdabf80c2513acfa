//! Sends a file written by the file sink (`url("file:///...")`) to jKool,
//! through the same queue and with the same retries as live items.
//!
//! ```text
//! JKOOL_TOKEN=... cargo run --example replay -- /var/log/app/jkool.jsonl
//! cargo run --example replay     # demo: writes a file, replays it to a local collector
//! ```

mod common;

use std::io::BufRead;
use std::time::{Duration, Instant};

use tracing_jkool::{JKoolHandle, JKoolLayer};
use tracing_jkool_collector::Collector;
use tracing_subscriber::prelude::*;

const QUEUE: usize = 10_000;

/// Writes a few spans and events to `path` through the file sink.
fn write_demo_file(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let layer = JKoolLayer::builder("unused-for-files")
        .url(format!("file://{}", path.display()))
        .build()?;
    let handle = layer.handle();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let _order = tracing::info_span!("place_order", order_no = 5).entered();
        tracing::info!(amount = 12.5, "order processed");
        tracing::warn!("stock low");
    });
    handle.shutdown(Duration::from_secs(5))?;
    Ok(())
}

/// Queues every line of `path`, waiting while the queue is half full so
/// that nothing is dropped; gives up waiting after `patience`.
fn replay(
    handle: &JKoolHandle,
    path: &std::path::Path,
    patience: Duration,
) -> Result<usize, Box<dyn std::error::Error>> {
    let mut sent = 0;
    for line in std::io::BufReader::new(std::fs::File::open(path)?).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let started = Instant::now();
        while handle.stats().pending >= QUEUE as u64 / 2 && started.elapsed() < patience {
            std::thread::sleep(Duration::from_millis(10));
        }
        handle.send_json(&line)?;
        sent += 1;
    }
    Ok(sent)
}

fn main() -> std::process::ExitCode {
    common::report(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (layer, collector, path) = match std::env::var("JKOOL_TOKEN") {
        Ok(token) => {
            let path = std::env::args().nth(1).ok_or("usage: replay FILE.jsonl")?;
            (JKoolLayer::builder(token).with_env()?, None, path.into())
        }
        Err(_) => {
            let path =
                std::env::temp_dir().join(format!("jkool-replay-{}.jsonl", std::process::id()));
            write_demo_file(&path)?;
            println!("wrote {}", path.display());
            let collector = Collector::start()?;
            (
                JKoolLayer::builder("local-token").url(collector.url()),
                Some(collector),
                path,
            )
        }
    };
    let handle = layer.queue_capacity(QUEUE).build()?.handle();
    let queued = replay(&handle, &path, Duration::from_secs(60))?;
    handle.shutdown(Duration::from_secs(30))?;
    println!("replayed {queued} item(s): {:?}", handle.stats());
    if let Some(collector) = collector {
        println!("{}", collector.render_tree());
        std::fs::remove_file(&path)?;
    }
    Ok(())
}
