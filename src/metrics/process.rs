//! Process metrics: CPU, memory and threads of this process, named as
//! TNT4J names the JVM's (`Builder::process_metrics` has the table).
//!
//! # Why metrics-process
//!
//! The figures come from [`metrics-process`](https://docs.rs/metrics-process)
//! 2.4, with its default `metrics-rs` feature off, so that it is a plain
//! reader. Of the crates weighed:
//!
//! - **metrics-process** reads only the current process, through one
//!   system interface per platform (Linux `/proc/self` through procfs with
//!   its default features off; macOS `proc_pidinfo`; Windows
//!   `GetProcessTimes`/`GetProcessMemoryInfo`/`GetProcessHandleCount`;
//!   FreeBSD and OpenBSD too). It gives exactly the figures wanted (CPU
//!   seconds, resident and virtual bytes, threads, open descriptors) and
//!   adds four small crates on Linux (procfs, procfs-core, hex,
//!   metrics-process); a sample (reading and building the report) costs
//!   a median 28 µs on Linux (`sample_cost` below), within the 50 µs
//!   budget of the delivery thread.
//! - **sysinfo** covers more platforms and much more (disks, networks,
//!   components), but even with only its `system` feature it brings
//!   `windows`/`ntapi`/objc2 bindings, its releases that build on this
//!   crate's Rust 1.85 are behind (0.40 needs 1.95), and its process refresh
//!   reads more than the figures needed.
//! - **procfs** is Linux only.
//!
//! On other platforms the crate is not used and the snapshots are empty.

use std::time::Instant;

use crate::item::clock::now_usec;
use crate::{JKoolEvent, Snapshot, ValueType};

/// The `operation` of a process metrics report.
pub(crate) const OPERATION: &str = "process.metrics";
/// The category of its snapshots.
pub(crate) const CATEGORY: &str = "Process";

/// One reading of the process's figures; `None` where the OS does not tell.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Reading {
    cpu_seconds: Option<f64>,
    resident_bytes: Option<u64>,
    virtual_bytes: Option<u64>,
    threads: Option<u64>,
    open_files: Option<u64>,
}

#[cfg(any(
    target_os = "linux",
    target_os = "macos",
    target_os = "windows",
    target_os = "freebsd",
    target_os = "openbsd"
))]
fn read() -> Reading {
    let m = metrics_process::collector::collect();
    Reading {
        cpu_seconds: m.cpu_seconds_total,
        resident_bytes: m.resident_memory_bytes,
        virtual_bytes: m.virtual_memory_bytes,
        threads: m.threads,
        open_files: m.open_fds,
    }
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "macos",
    target_os = "windows",
    target_os = "freebsd",
    target_os = "openbsd"
)))]
fn read() -> Reading {
    Reading::default()
}

/// Takes readings and turns them into reports, remembering the previous
/// CPU time for `Usage`.
#[derive(Debug)]
pub(crate) struct Sampler {
    last_cpu: Option<(f64, Instant)>,
}

impl Sampler {
    /// A sampler whose first report's `Usage` covers the time from now.
    pub(crate) fn new() -> Self {
        let now = Instant::now();
        Sampler {
            last_cpu: read().cpu_seconds.map(|cpu| (cpu, now)),
        }
    }

    /// Reads the figures now and makes the report.
    pub(crate) fn sample(&mut self) -> JKoolEvent {
        let now = Instant::now();
        let reading = read();
        self.report(reading, now)
    }

    fn report(&mut self, reading: Reading, now: Instant) -> JKoolEvent {
        let time = now_usec();
        let snapshot = |name: &str| Snapshot::new(name).category(CATEGORY).time_usec(time);

        let mut cpu = snapshot("CPU");
        if let Some(seconds) = reading.cpu_seconds {
            let usec = (seconds * 1e6).round() as i64;
            cpu = cpu.property_with_unit("TotalCpuUsec", usec, ValueType::AgeUsec);
            if let Some((last, at)) = self.last_cpu {
                let wall = now.saturating_duration_since(at).as_secs_f64();
                if wall > 0.0 {
                    let usage = (seconds - last).max(0.0) / wall * 100.0;
                    cpu = cpu.property_with_unit("Usage", usage, ValueType::Percent);
                }
            }
            self.last_cpu = Some((seconds, now));
        }

        let mut memory = snapshot("Memory");
        for (name, bytes) in [
            ("UsedBytes", reading.resident_bytes),
            ("VirtualBytes", reading.virtual_bytes),
        ] {
            if let Some(bytes) = bytes {
                memory = memory.property_with_unit(name, bytes, ValueType::SizeByte);
            }
        }

        let mut thread = snapshot("Thread");
        for (name, count) in [
            ("Count", reading.threads),
            ("OpenFiles", reading.open_files),
        ] {
            if let Some(count) = count {
                thread = thread.property_with_unit(name, count, ValueType::Gauge);
            }
        }

        super::report_event(OPERATION, "process metrics")
            .time_usec(time)
            .snapshot(cpu)
            .snapshot(memory)
            .snapshot(thread)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_cpu_time_over_wall_time_in_percent() {
        let start = Instant::now();
        let mut sampler = Sampler {
            last_cpu: Some((1.0, start)),
        };
        let reading = Reading {
            cpu_seconds: Some(1.5),
            resident_bytes: Some(10),
            ..Reading::default()
        };
        let event = sampler.report(reading, start + std::time::Duration::from_secs(2));
        let json = serde_json::to_value(&event).unwrap();
        let cpu = &json["snapshots"][0]["properties"];
        assert_eq!(cpu[0]["value"], 1_500_000);
        assert_eq!(cpu[1]["name"], "Usage");
        assert_eq!(cpu[1]["value"], 25.0);
        let memory = &json["snapshots"][1]["properties"];
        assert_eq!(
            memory.as_array().unwrap().len(),
            1,
            "unknown figures are left out"
        );
        assert!(json["snapshots"][2]["properties"]
            .as_array()
            .unwrap()
            .is_empty());
    }

    /// The cost of one sample on the delivery thread: reading the figures
    /// and building the report. Wall time, so a busy machine inflates the
    /// mean; the median is what the assertion holds to.
    ///
    /// `cargo test --release --lib sample_cost -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement: run it with --release --ignored --nocapture"]
    fn sample_cost() {
        let mut sampler = Sampler::new();
        for _ in 0..100 {
            std::hint::black_box(sampler.sample());
        }
        let mut times: Vec<std::time::Duration> = (0..1_000)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(sampler.sample());
                start.elapsed()
            })
            .collect();
        times.sort();
        let mean = times.iter().sum::<std::time::Duration>() / 1_000;
        let (min, median) = (times[0], times[500]);
        println!("process metrics, 1000 samples: mean {mean:?}, median {median:?}, min {min:?}");
        assert!(median < std::time::Duration::from_micros(50), "{median:?}");
    }
}
