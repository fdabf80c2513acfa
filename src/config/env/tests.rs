//! `with_env`, through a lookup function: the process's environment is
//! left alone.

use super::*;

#[test]
fn a_misspelt_variable_is_named_with_the_closest_known_one() {
    let names = ["JKOOL_SAMPLE_RATE", "JKOOL_URL", "PATH", "JKOOL_TOKN"];
    assert_eq!(
        misspelt(names.iter().map(|n| n.to_string())),
        [
            "JKOOL_SAMPLE_RATE is not a variable tracing-jkool reads; did you mean \
             JKOOL_SAMPLE_RATIO?",
            "JKOOL_TOKN is not a variable tracing-jkool reads; did you mean JKOOL_TOKEN?",
        ]
    );
}

#[test]
fn a_ratio_out_of_range_names_its_variable() {
    let err = Builder::new("t".into())
        .with_env_from(env(&[("JKOOL_SAMPLE_RATIO", "1.5")]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"environment variable JKOOL_SAMPLE_RATIO="1.5" is invalid: expected a ratio from 0 to 1, such as 0.1"#
    );
}

#[test]
fn every_variable_read_is_in_the_list() {
    let source = include_str!("../env.rs");
    let mut read: Vec<&str> = source
        .split('"')
        .filter(|part| part.starts_with("JKOOL_") && !part.contains(' '))
        .filter(|part| part.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    read.sort_unstable();
    read.dedup();
    let mut listed = VARIABLES.to_vec();
    listed.sort_unstable();
    // The test's own misspellings are not read.
    read.retain(|name| !["JKOOL_", "JKOOL_SAMPLE_RATE", "JKOOL_TOKN"].contains(name));
    assert_eq!(read, listed);
}

#[test]
fn every_variable_is_documented() {
    let docs = include_str!("../../../docs/configuration.md");
    let missing: Vec<&str> = (VARIABLES.iter())
        .filter(|name| !docs.contains(&format!("`{name}`")))
        .copied()
        .collect();
    assert!(
        missing.is_empty(),
        "not in docs/configuration.md: {missing:?}"
    );
}

#[test]
fn every_variable_the_readme_names_is_read() {
    let readme = include_str!("../../../README.md");
    let named = readme.split(|c: char| !(c.is_ascii_uppercase() || c == '_'));
    let unknown: Vec<&str> = named
        .filter(|word| word.starts_with("JKOOL_") && !VARIABLES.contains(word))
        .collect();
    assert!(unknown.is_empty(), "README.md names {unknown:?}");
}

fn env<'a>(vars: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
    |name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[test]
fn a_bad_value_names_the_variable_and_the_value_but_never_the_token() {
    let err = Builder::new("t".into())
        .with_env_from(env(&[("JKOOL_BATCH_SIZE", "many")]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"environment variable JKOOL_BATCH_SIZE="many" is invalid: invalid digit found in string"#
    );
    let err = Builder::new("t".into())
        .with_env_from(env(&[("JKOOL_LEVEL", "loud")]))
        .unwrap_err();
    assert!(err
        .to_string()
        .starts_with(r#"environment variable JKOOL_LEVEL="loud""#));
    let err = Builder::new("t".into())
        .with_env_from(env(&[("JKOOL_FRAMING", "ndjson")]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"environment variable JKOOL_FRAMING="ndjson" is invalid: expected object, lines or array"#
    );
}

#[test]
fn values_apply_and_later_settings_win() {
    let builder = Builder::new("t".into())
        .with_env_from(env(&[
            ("JKOOL_LEVEL", "off"),
            ("JKOOL_BATCH_SIZE", "7"),
            ("JKOOL_FRAMING", " Lines "),
            ("JKOOL_CAPTURE_PANICS", "1"),
            ("JKOOL_MAX_CONCURRENT_REQUESTS", "9"),
            ("JKOOL_FLUSH_INTERVAL_MS", "18446744073709551615"),
            ("JKOOL_PROCESS_METRICS_MS", "250"),
            ("JKOOL_SELF_METRICS_MS", "0"),
            ("JKOOL_OPERATION_METRICS_MS", "1500"),
            ("JKOOL_SAMPLE_RATIO", "0.25"),
            ("JKOOL_SPOOL_DIR", "/var/spool/app"),
            ("JKOOL_SPOOL_MAX_BYTES", "1048576"),
            ("JKOOL_SEND_SENSITIVE_FIELDS", "yes"),
            ("JKOOL_REDACT_FIELDS", " order_secret_code, ,pin "),
        ]))
        .unwrap()
        .url("http://127.0.0.1:9")
        .batch_size(8);
    assert_eq!(builder.level, tracing::level_filters::LevelFilter::OFF);
    assert_eq!(builder.settings.batch_size, 8);
    assert_eq!(builder.settings.framing, crate::Framing::Lines);
    assert!(builder.capture_panics);
    assert_eq!(builder.settings.max_concurrent_requests, 9);
    assert_eq!(
        builder.metrics.process,
        Some(Duration::from_millis(250)),
        "JKOOL_PROCESS_METRICS_MS"
    );
    assert_eq!(builder.metrics.health, None, "0 turns it off");
    assert_eq!(
        builder.metrics.operations,
        Some(Duration::from_millis(1500)),
        "JKOOL_OPERATION_METRICS_MS"
    );
    let ratio = builder.settings.sampler.map(|s| s.fraction());
    assert_eq!(ratio, Some(0.25), "JKOOL_SAMPLE_RATIO");
    assert_eq!(builder.spool.dir, Some("/var/spool/app".into()));
    assert_eq!(builder.spool.max_bytes, 1 << 20);
    let redaction = &builder.settings.redaction;
    assert!(redaction.send_sensitive, "JKOOL_SEND_SENSITIVE_FIELDS");
    assert_eq!(
        redaction.names,
        ["order_secret_code", "pin"],
        "JKOOL_REDACT_FIELDS"
    );
    let builder = builder
        .spool_dir(std::env::temp_dir().join(format!("tracing-jkool-env-{}", std::process::id())));
    let dir = builder.spool.dir.clone().unwrap();
    // A huge interval saturates instead of panicking.
    drop(builder.build().expect("builds"));
    std::thread::sleep(Duration::from_millis(50));
    let _ = std::fs::remove_dir_all(dir);
}
