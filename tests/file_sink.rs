//! The file sink writes each item as one JSON line, from the delivery
//! thread; `send_json` replays those lines to jKool unchanged.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::Value;
use tracing::info;
use tracing_jkool::{Error, JKoolLayer};

fn temp_file(name: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("tracing-jkool-{}-{name}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn the_file_sink_writes_json_lines_that_replay_unchanged() {
    let path = temp_file("sink");
    let to_file = JKoolLayer::builder("unused")
        .url(format!("file://{}", path.display()))
        .batch_size(4);
    let (writer, handle) = dispatch(to_file);
    tracing::dispatcher::with_default(&writer, || {
        let _span = tracing::info_span!("nightly_job", run = 3).entered();
        for i in 0..10 {
            info!(i, "line \"quoted\"\nand a newline");
        }
    });
    handle.shutdown(WAIT).expect("written");
    assert_eq!(handle.stats().sent, 11);

    let text = std::fs::read_to_string(&path).expect("the file");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON item"))
        .collect();
    assert_eq!(lines.len(), 11);
    lines.iter().for_each(assert_contract);
    let job = find(&lines, "operation", "nightly_job");
    assert!(lines
        .iter()
        .filter(|l| l["type"] == "EVENT")
        .all(|l| l["parent-id"] == job["tracking-id"]));

    // Replay the file to a collector: the same items arrive.
    let collector = collector();
    let (_dispatch, replayer) = dispatch(builder(&collector));
    for line in text.lines() {
        replayer.send_json(line).expect("a jKool item");
    }
    replayer.flush(WAIT).expect("replayed");
    let received = collector.items();
    assert_eq!(received.len(), 11);
    let mut sent_ids: Vec<_> = lines.iter().map(|l| l["tracking-id"].clone()).collect();
    let mut got_ids: Vec<_> = received.iter().map(|l| l["tracking-id"].clone()).collect();
    sent_ids.sort_by_key(Value::to_string);
    got_ids.sort_by_key(Value::to_string);
    assert_eq!(sent_ids, got_ids);
    std::fs::remove_file(&path).expect("clean up");
}

#[test]
fn send_json_refuses_what_is_not_a_jkool_item() {
    let collector = collector();
    let (_dispatch, handle) = dispatch(builder(&collector));
    for bad in ["not json", "[1, 2]", r#"{"msg-text": "no type"}"#] {
        assert!(
            matches!(handle.send_json(bad), Err(Error::InvalidItem(_))),
            "{bad}"
        );
    }
    assert_eq!(handle.stats().queued, 0);
}

#[test]
fn a_file_sink_that_cannot_be_opened_is_a_build_error() {
    let err = JKoolLayer::builder("t")
        .url("file:///no/such/dir/jkool.jsonl")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err}");
    assert!(err.to_string().contains("No such file"), "{err}");
    let err = JKoolLayer::builder("t")
        .url("file://remote-host/jkool.jsonl")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err}");
}

#[test]
fn the_file_sink_rotates_by_size_and_keeps_at_most_max_files() {
    let path = temp_file("rotate");
    let numbered = |n: usize| PathBuf::from(format!("{}.{n}", path.display()));
    let to_file = JKoolLayer::builder("unused")
        .url(format!("file://{}", path.display()))
        .batch_size(2)
        .max_file_bytes(4096)
        .max_files(3);
    let (writer, handle) = dispatch(to_file);
    tracing::dispatcher::with_default(&writer, || {
        for i in 0..200 {
            info!(i, "rotated");
        }
    });
    handle.shutdown(WAIT).expect("written");
    assert_eq!(handle.stats().sent, 200);

    // The live file and two older ones; nothing beyond.
    assert!(!numbered(3).exists(), "at most 3 files");
    let mut numbers = Vec::new();
    for file in [numbered(2), numbered(1), path.clone()] {
        let text = std::fs::read_to_string(&file).expect("each file exists");
        assert!(
            text.len() <= 4096,
            "{} is {} bytes",
            file.display(),
            text.len()
        );
        for line in text.lines() {
            let item: Value = serde_json::from_str(line).expect("whole JSON lines");
            numbers.push(property(&item, "i")["value"].as_i64().expect("i"));
        }
        std::fs::remove_file(&file).expect("clean up");
    }
    // Oldest file first: the newest items, in order, ending with the last.
    assert!(numbers.windows(2).all(|w| w[0] + 1 == w[1]), "{numbers:?}");
    assert_eq!(numbers.last(), Some(&199));
}

#[test]
fn rotation_finds_the_rotated_files_so_any_max_files_works() {
    let path = temp_file("rotate-any");
    let numbered = |n: usize| PathBuf::from(format!("{}.{n}", path.display()));
    // Left by an earlier run that kept more files: beyond what is kept now.
    std::fs::write(numbered(9), "{}\n").expect("an old file");
    for (max_files, emitted) in [(usize::MAX, 60), (3, 60)] {
        let to_file = JKoolLayer::builder("unused")
            .url(format!("file://{}", path.display()))
            .batch_size(2)
            .max_file_bytes(4096)
            .max_files(max_files);
        let (writer, handle) = dispatch(to_file);
        tracing::dispatcher::with_default(&writer, || {
            for i in 0..emitted {
                info!(i, "rotated");
            }
        });
        handle.shutdown(WAIT).expect("written, without hanging");
        assert_eq!(
            handle.stats().sent,
            emitted as u64,
            "max_files({max_files})"
        );
    }
    assert!(numbered(1).exists() && numbered(2).exists());
    assert!(
        !numbered(3).exists() && !numbered(9).exists(),
        "at most 3 files"
    );
    for n in 1..=20 {
        let _ = std::fs::remove_file(numbered(n));
    }
    let _ = std::fs::remove_file(&path);
}

/// Set in the child process that the partial-write test starts: its file.
#[cfg(unix)]
const CHILD_FILE: &str = "TRACING_JKOOL_FSIZE_CHILD_FILE";

/// The largest file the child may write (`RLIMIT_FSIZE`).
#[cfg(unix)]
const CAP: u64 = 3_000;

#[cfg(unix)]
#[test]
fn a_write_cut_short_by_a_full_disk_leaves_no_torn_line_and_no_duplicate() {
    if let Some(path) = std::env::var_os(CHILD_FILE) {
        // Past the cap, a write fails with EFBIG instead of killing the
        // process, as a full disk fails with ENOSPC.
        // SAFETY: plain calls with valid arguments, before any thread of
        // this test writes a file.
        unsafe {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let mut limit = std::mem::zeroed::<libc::rlimit>();
            libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit);
            limit.rlim_cur = CAP as libc::rlim_t;
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
        }
        let to_file = JKoolLayer::builder("unused")
            .url(format!("file://{}", PathBuf::from(path).display()))
            .max_body_bytes(1_500)
            .flush_interval(std::time::Duration::from_millis(10));
        let (writer, handle) = dispatch(to_file);
        tracing::dispatcher::with_default(&writer, || {
            for i in 0..40 {
                info!(i, text = "x".repeat(100).as_str(), "cut short");
            }
        });
        let _ = handle.shutdown(std::time::Duration::from_millis(500));
        return;
    }
    let path = temp_file("fsize");
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "a_write_cut_short_by_a_full_disk_leaves_no_torn_line_and_no_duplicate",
        ])
        .env(CHILD_FILE, &path)
        .output()
        .expect("child runs");
    assert!(output.status.success(), "{output:?}");
    let text = std::fs::read_to_string(&path).expect("the file");
    assert!(text.len() as u64 <= CAP, "{} bytes", text.len());
    assert!(text.is_empty() || text.ends_with('\n'), "a torn last line");
    let mut ids = std::collections::HashSet::new();
    for line in text.lines() {
        let item: Value = serde_json::from_str(line).expect("whole JSON lines");
        assert!(ids.insert(item["tracking-id"].clone()), "twice: {line}");
    }
    assert!(!ids.is_empty(), "some bodies fit");
    let _ = std::fs::remove_file(&path);
}
