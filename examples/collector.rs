//! A local mock jKool collector that prints what it receives.
//!
//! ```text
//! cargo run --example collector            # port chosen by the OS
//! cargo run --example collector -- 8085    # or JKOOL_COLLECTOR_PORT=8085
//! ```
//!
//! Set `JKOOL_COLLECTOR_TOKEN` to require that token; otherwise any token is
//! accepted. The installed `jkool-collector` binary does the same with
//! more options (`cargo install --path collector`). Open the printed web view URL in a browser to see the traces
//! as a list and a waterfall. Stop it with Ctrl-C.

use std::time::Duration;

use tracing_jkool_collector::{render_tree, Collector};

fn main() -> std::process::ExitCode {
    let Err(err) = run() else {
        return std::process::ExitCode::SUCCESS;
    };
    // The error and each of its causes, not a Debug struct.
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(source) = cause {
        text = format!("{text}: {source}");
        cause = source.source();
    }
    eprintln!("collector: {text}");
    std::process::ExitCode::FAILURE
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let port = match std::env::args()
        .nth(1)
        .or_else(|| std::env::var("JKOOL_COLLECTOR_PORT").ok())
    {
        Some(port) => port
            .parse::<u16>()
            .map_err(|e| format!("bad port {port:?}: {e}"))?,
        None => 0,
    };
    let mut builder = Collector::builder().port(port);
    if let Ok(token) = std::env::var("JKOOL_COLLECTOR_TOKEN") {
        builder = builder.token(token);
    }
    let collector = builder.start()?;

    println!("mock jKool collector listening on {}", collector.url());
    println!(
        "see what it receives in a browser: {}",
        collector.view_url()
    );
    println!("point an application at it, e.g.:");
    println!(
        "    JKOOL_URL={} cargo run --example quickstart",
        collector.url()
    );
    println!("press Ctrl-C to stop\n");

    let (mut seen_requests, mut seen_items) = (0, 0);
    loop {
        std::thread::sleep(Duration::from_secs(2));
        let requests = collector.requests();
        for r in requests.iter().skip(seen_requests) {
            println!(
                "{} {} -> {} ({} items)",
                r.method, r.path, r.status, r.items
            );
        }
        seen_requests = requests.len();

        // The whole tree, not just the new items: a span's activity arrives
        // after the events inside it, so new items alone would look orphaned.
        let items = collector.items();
        if items.len() > seen_items {
            println!(
                "--- {} new item(s), {} in all ---",
                items.len() - seen_items,
                items.len()
            );
            print!("{}", render_tree(&items));
            println!();
            seen_items = items.len();
        }
    }
}
