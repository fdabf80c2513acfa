//! The pipeline's own health: its delivery counters as a snapshot, so that
//! loss shows in jKool itself (`Builder::self_metrics` has the table).

use crate::item::clock::now_usec;
use crate::{JKoolEvent, JKoolHandle, Snapshot, ValueType};

/// The `operation` of a health report.
pub(crate) const OPERATION: &str = "tracing-jkool.health";
/// The name of its snapshot.
pub(crate) const SNAPSHOT: &str = "tracing-jkool";
/// The category of its snapshot.
pub(crate) const CATEGORY: &str = "Pipeline";

/// The report of the counters as they are now.
pub(crate) fn report(handle: &JKoolHandle) -> JKoolEvent {
    let stats = handle.stats();
    let time = now_usec();
    let mut snapshot = Snapshot::new(SNAPSHOT).category(CATEGORY).time_usec(time);
    for (name, value) in [
        ("queued", stats.queued),
        ("sent", stats.sent),
        ("dropped", stats.dropped),
        ("evicted", stats.evicted),
        ("failed", stats.failed),
        ("retried", stats.retried),
    ] {
        snapshot = snapshot.property_with_unit(name, value, ValueType::Counter);
    }
    snapshot = snapshot
        .property_with_unit("queue_depth", stats.pending, ValueType::Gauge)
        .property_with_unit("spool_bytes", stats.spool_bytes, ValueType::SizeByte);
    super::report_event(OPERATION, "tracing-jkool health")
        .time_usec(time)
        .snapshot(snapshot)
}
