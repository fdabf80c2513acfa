//! `kill -9` at random moments, 20 times or more, while a child process
//! emits as fast as it can into a spool with jKool down half of the time;
//! then a last child, with jKool up, delivers what is left. Prints what
//! was delivered: every item whole and valid, duplicates (each kill resends
//! what was in flight: at most `max_concurrent_requests` bodies of
//! `batch_size`, counted against the run that emitted them), and what each
//! killed run lost: only what was still in memory (the queue; with jKool
//! up, the batches being filled and sent).
//!
//! ```text
//! cargo run --release --example spool_crash -- 20
//! ```

mod common;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tracing::info;
use tracing_jkool::JKoolLayer;
use tracing_jkool_collector::Collector;
use tracing_subscriber::prelude::*;

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("child") => common::report(child(args.collect())),
        count => common::report(parent(count.and_then(|c| c.parse().ok()).unwrap_or(20))),
    }
}

/// `child <dir> <port> <run> <drain>`: emits numbered events until killed;
/// with `drain`, emits nothing and waits until the spool is empty.
fn child(args: Vec<String>) -> Result<(), Box<dyn std::error::Error>> {
    let [dir, port, run, drain] = <[String; 4]>::try_from(args).map_err(|_| "child arguments")?;
    let layer = JKoolLayer::builder("crash-token")
        .url(format!("http://127.0.0.1:{port}"))
        .max_retry_wait(Duration::from_millis(200))
        .flush_interval(Duration::from_millis(50))
        .spool_dir(&dir)
        .build()?;
    let jkool = layer.handle();
    tracing_subscriber::registry().with(layer).init();
    if drain == "drain" {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            let stats = jkool.stats();
            if stats.recovered > 0 && stats.spool_bytes == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        println!("{:?}", jkool.stats());
        jkool.shutdown(Duration::from_secs(10))?;
        return Ok(());
    }
    let progress = format!("{dir}.progress-{run}");
    for i in 0u64..10_000_000 {
        info!(run = run.as_str(), i, "crash me");
        if i % 1000 == 0 {
            // How many were emitted at least, for the parent's figures.
            // Written aside and renamed: a kill never leaves it half written.
            std::fs::write(format!("{progress}.tmp"), (i + 1).to_string())?;
            std::fs::rename(format!("{progress}.tmp"), &progress)?;
            // A pace a busy service might have: about 200,000 a second.
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    Ok(())
}

fn parent(kills: u32) -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("tracing-jkool-crash-{}", std::process::id()));
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let exe = std::env::current_exe()?;
    let spawn = |run: u32, drain: &str| {
        Command::new(&exe)
            .args(["child", &dir.display().to_string(), &port.to_string()])
            .args([run.to_string(), drain.to_owned()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
    };
    let mut collector: Option<Collector> = None;
    let mut seed = u64::from(std::process::id()) | 1;
    let mut random = move |below: u64| {
        // xorshift: no dependency for a random delay.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    };
    let mut received = Vec::new();
    let mut emitted = HashMap::new();
    for run in 0..kills {
        // jKool is down in even runs, up in odd ones.
        if run % 2 == 1 {
            collector = Some(
                Collector::builder()
                    .token("crash-token")
                    .port(port)
                    .start()?,
            );
        }
        let mut child = spawn(run, "emit")?;
        std::thread::sleep(Duration::from_millis(100 + random(900)));
        child.kill()?; // SIGKILL
        child.wait()?;
        let progress = format!("{}.progress-{run}", dir.display());
        let count: u64 = std::fs::read_to_string(&progress)
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let _ = std::fs::remove_file(&progress);
        let _ = std::fs::remove_file(format!("{progress}.tmp"));
        emitted.insert(run.to_string(), count);
        if let Some(up) = collector.take() {
            received.extend(up.items());
            up.shutdown();
        }
    }
    let up = Collector::builder()
        .token("crash-token")
        .port(port)
        .start()?;
    let output = spawn(kills, "drain")?.wait_with_output()?;
    println!(
        "last run: {}",
        String::from_utf8_lossy(&output.stdout).trim()
    );
    received.extend(up.items());
    up.shutdown();
    let _ = std::fs::remove_dir_all(&dir);

    // Every item the collector took is whole jKool JSON (it parses them).
    let mut by_run: HashMap<String, Vec<u64>> = HashMap::new();
    let mut invalid = 0;
    for item in &received {
        let props = item["snapshots"][0]["properties"].as_array();
        let value = |name: &str| {
            props
                .and_then(|p| p.iter().find(|p| p["name"] == name))
                .map(|p| p["value"].clone())
        };
        match (value("run"), value("i").and_then(|i| i.as_u64())) {
            (Some(run), Some(i)) if item["msg-text"] == "crash me" => {
                by_run.entry(run.to_string()).or_default().push(i)
            }
            _ => invalid += 1,
        }
    }
    println!(
        "{kills} kill -9s; {} items delivered, {invalid} not valid",
        received.len()
    );
    let mut runs: Vec<_> = by_run.into_iter().collect();
    runs.sort_by_key(|(run, _)| run.trim_matches('"').parse::<u32>().unwrap_or(0));
    for (run, mut seen) in runs {
        seen.sort_unstable();
        let total = seen.len();
        seen.dedup();
        let reached = seen.last().map_or(0, |i| i + 1);
        let run = run.trim_matches('"');
        let at_least = emitted.get(run).copied().unwrap_or(0);
        println!(
            "run {run:>2} (jKool {}): emitted >= {at_least:>7}, {:>7} delivered, {:>5} duplicates, \
             {:>5} missing below the last delivered, lost <= {} (in memory at the kill)",
            if run.parse::<u32>().unwrap_or(0) % 2 == 1 { "up  " } else { "down" },
            seen.len(),
            total - seen.len(),
            reached - seen.len() as u64,
            at_least.saturating_sub(seen.len() as u64),
        );
    }
    Ok(())
}
