//! `JKoolLayer::from_env`: the only test that changes the process's
//! environment, alone in its binary so that no other test runs beside it.
//! (The builder's `with_env` is tested through a lookup function in
//! src/env.rs, without touching the environment.)

mod common;

use common::*;
use tracing_jkool::{Error, JKoolLayer};
use tracing_subscriber::prelude::*;

const VARIABLES: [&str; 11] = [
    "JKOOL_SEND_SENSITIVE_FIELDS",
    "JKOOL_REDACT_FIELDS",
    "JKOOL_MAX_CONCURRENT_REQUESTS",
    "JKOOL_SPOOL_MAX_BYTES",
    "JKOOL_TOKEN",
    "JKOOL_URL",
    "JKOOL_LEVEL",
    "JKOOL_SOURCE_FQN",
    "JKOOL_QUEUE_CAPACITY",
    "JKOOL_BATCH_SIZE",
    "JKOOL_FLUSH_INTERVAL_MS",
];

/// Environment variables are process-wide: this one test owns them.
#[test]
fn configuration_comes_from_the_environment_with_clear_errors() {
    for variable in VARIABLES {
        std::env::remove_var(variable);
    }
    assert!(matches!(
        JKoolLayer::from_env(),
        Err(Error::MissingEnv("JKOOL_TOKEN"))
    ));

    let collector = collector();
    std::env::set_var("JKOOL_TOKEN", TOKEN);
    std::env::set_var("JKOOL_URL", collector.url());
    for (variable, value, reason) in [
        ("JKOOL_QUEUE_CAPACITY", "ten", "invalid digit"),
        ("JKOOL_LEVEL", "loud", "level"),
        ("JKOOL_FLUSH_INTERVAL_MS", "-5", "invalid digit"),
        // Values that parse but that build refuses name their variable too.
        ("JKOOL_QUEUE_CAPACITY", "0", "must be at least 1"),
        ("JKOOL_MAX_CONCURRENT_REQUESTS", "0", "must be at least 1"),
        ("JKOOL_SPOOL_MAX_BYTES", "1000", "must be at least 1048576"),
        ("JKOOL_URL", "localhost:8080", "it has no scheme"),
        ("JKOOL_SEND_SENSITIVE_FIELDS", "maybe", "expected 1 or 0"),
    ] {
        std::env::set_var(variable, value);
        let err = JKoolLayer::from_env().unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::InvalidEnv { .. }), "{text}");
        assert!(
            text.contains(variable) && text.contains(value) && text.contains(reason),
            "{text}"
        );
        assert!(!text.contains(TOKEN), "{text}");
        std::env::remove_var(variable);
    }
    std::env::set_var("JKOOL_TOKEN", " ");
    let err = JKoolLayer::from_env().unwrap_err().to_string();
    assert!(
        err.contains("JKOOL_TOKEN") && err.contains("must not be empty"),
        "{err}"
    );
    std::env::set_var("JKOOL_TOKEN", TOKEN);

    // `builder` and `new` read JKOOL_URL as `from_env` does: the default
    // URL, named in its errors, and overridden by `url`.
    std::env::set_var("JKOOL_URL", "localhost:8080");
    let err = JKoolLayer::builder(TOKEN).build().unwrap_err().to_string();
    assert!(
        err.contains("JKOOL_URL") && err.contains("no scheme"),
        "{err}"
    );
    let overridden = JKoolLayer::builder(TOKEN).url(collector.url()).build();
    assert!(overridden.is_ok(), "{overridden:?}");
    let other = tracing_jkool_collector::Collector::builder()
        .token(TOKEN)
        .start()
        .expect("collector");
    std::env::set_var("JKOOL_URL", other.url());
    let layer = JKoolLayer::builder(TOKEN).build().expect("builds");
    let handle = layer.handle();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!("to JKOOL_URL");
    });
    handle.shutdown(WAIT).expect("delivered");
    let items = other.items();
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(items[0]["msg-text"], "to JKOOL_URL");
    std::env::set_var("JKOOL_URL", collector.url());

    std::env::set_var("JKOOL_LEVEL", "debug");
    std::env::set_var("JKOOL_SOURCE_FQN", "APPL=FromEnv");
    std::env::set_var("JKOOL_QUEUE_CAPACITY", "100");
    std::env::set_var("JKOOL_BATCH_SIZE", "2");
    std::env::set_var("JKOOL_FLUSH_INTERVAL_MS", "20");
    std::env::set_var("JKOOL_SEND_SENSITIVE_FIELDS", "1");
    std::env::set_var("JKOOL_REDACT_FIELDS", "order_secret_code, pin");
    let layer = JKoolLayer::from_env().expect("configured from the environment");
    let handle = layer.handle();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..5 {
            tracing::debug!(i, password = "hunter2", order_secret_code = 7, "from env");
        }
    });
    handle.flush(WAIT).expect("delivered");
    let items = collector.items();
    assert_eq!(
        items.len(),
        5,
        "JKOOL_LEVEL=debug lets debug events through"
    );
    assert!(items.iter().all(|i| i["source-fqn"] == "APPL=FromEnv"));
    for item in &items {
        assert_eq!(
            property(item, "password")["value"],
            "hunter2",
            "JKOOL_SEND_SENSITIVE_FIELDS=1"
        );
        assert_eq!(
            property(item, "order_secret_code")["value"],
            "[redacted]",
            "JKOOL_REDACT_FIELDS"
        );
    }
    assert!(
        collector.requests().iter().all(|r| r.items <= 2),
        "JKOOL_BATCH_SIZE=2"
    );
    for variable in VARIABLES {
        std::env::remove_var(variable);
    }
}
