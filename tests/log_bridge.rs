//! Records of the `log` crate reach jKool through tracing-log's bridge, with
//! their own target, file and line, inside the current span.

mod common;

use common::*;

#[test]
fn log_records_become_events_with_their_real_origin() {
    tracing_log::LogTracer::init().expect("the log bridge installs once");
    let collector = collector();
    let line = line!() + 3;
    let items = run(&collector, builder(&collector), || {
        let _span = tracing::info_span!("legacy_call").entered();
        log::info!(target: "shop::legacy", "charged order {}", 5);
        log::warn!("stock low");
        log::debug!("below the level");
    });
    assert_eq!(items.len(), 3, "{items:#?}");
    let span = find(&items, "operation", "legacy_call");
    let charged = find(&items, "msg-text", "charged order 5");
    assert_eq!(charged["severity"], "INFO");
    assert_eq!(charged["resource"], "shop::legacy");
    assert_eq!(charged["operation"], "shop::legacy");
    assert_eq!(charged["location"], format!("tests/log_bridge.rs:{line}"));
    assert_eq!(charged["parent-id"], span["tracking-id"]);
    assert!(
        charged.get("snapshots").is_none(),
        "no log.* fields as properties: {charged:#}"
    );
    let low = find(&items, "msg-text", "stock low");
    assert_eq!(low["severity"], "WARNING");
    assert_eq!(low["resource"], "log_bridge");
    assert!(items.iter().all(|i| i["msg-text"] != "below the level"));
}
