//! A `Debug` impl that logs while the layer records a span's fields, at
//! creation and on `Span::record`, must not deadlock the application.
//!
//! Its own test binary: the layer is the global default here, as in an
//! application (with a scoped default, tracing sends events emitted inside
//! a span's creation to no subscriber at all).

mod common;

use std::fmt;
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use tracing::{field, info, info_span};
use tracing_subscriber::prelude::*;

/// Logs every time it is formatted.
struct Noisy(&'static str);

impl fmt::Debug for Noisy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        info!(while_formatting = self.0, "formatting");
        write!(f, "Noisy({})", self.0)
    }
}

#[test]
fn debug_impls_that_log_while_fields_are_recorded_do_not_deadlock() {
    let collector = collector();
    let layer = builder(&collector).build().expect("layer builds");
    let handle = layer.handle();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
        .expect("the only global default of this test binary");

    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let span = info_span!("outer", created = ?Noisy("created"), later = field::Empty);
        let entered = span.enter();
        span.record("later", field::debug(Noisy("recorded")));
        info!("after");
        drop(entered);
        drop(span);
        done.send(()).expect("the test waits");
    });
    finished
        .recv_timeout(Duration::from_secs(20))
        .expect("the application's thread finished: no deadlock");

    handle.flush(WAIT).expect("everything is delivered");
    let items = collector.items();
    assert_eq!(items.len(), 4, "{items:#?}");
    items.iter().for_each(assert_contract);
    let outer = find(&items, "operation", "outer");
    assert_eq!(property(outer, "created")["value"], "Noisy(created)");
    assert_eq!(property(outer, "later")["value"], "Noisy(recorded)");
    let formatting: Vec<_> = of_type(&items, "EVENT")
        .into_iter()
        .filter(|e| e["msg-text"] == "formatting")
        .collect();
    assert_eq!(formatting.len(), 2, "{items:#?}");
    for event in formatting {
        match property(event, "while_formatting")["value"].as_str() {
            // Formatted while the span was being created: not inside it yet.
            Some("created") => assert!(event.get("parent-id").is_none(), "{event:#}"),
            Some("recorded") => assert_eq!(event["parent-id"], outer["tracking-id"]),
            other => panic!("unexpected {other:?}"),
        }
    }
    let after = find(&items, "msg-text", "after");
    assert_eq!(after["parent-id"], outer["tracking-id"]);
}
