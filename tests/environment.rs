//! `JKoolLayer::from_env`: the only test that changes the process's
//! environment, alone in its binary so that no other test runs beside it.
//! (The builder's `with_env` is tested through a lookup function in
//! src/env.rs, without touching the environment.)

mod common;

use common::*;
use tracing_jkool::{Error, JKoolLayer};
use tracing_subscriber::prelude::*;

const VARIABLES: [&str; 7] = [
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

    std::env::set_var("JKOOL_LEVEL", "debug");
    std::env::set_var("JKOOL_SOURCE_FQN", "APPL=FromEnv");
    std::env::set_var("JKOOL_QUEUE_CAPACITY", "100");
    std::env::set_var("JKOOL_BATCH_SIZE", "2");
    std::env::set_var("JKOOL_FLUSH_INTERVAL_MS", "20");
    let layer = JKoolLayer::from_env().expect("configured from the environment");
    let handle = layer.handle();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..5 {
            tracing::debug!(i, "from env");
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
    assert!(
        collector.requests().iter().all(|r| r.items <= 2),
        "JKOOL_BATCH_SIZE=2"
    );
    for variable in VARIABLES {
        std::env::remove_var(variable);
    }
}
