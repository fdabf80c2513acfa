//! The crate's own HTTP stack must not feed its events back into the layer,
//! while the application's use of the same stack is still traced. This
//! needs the layer as the *global* subscriber, so that the delivery thread
//! would see it too: this file holds one test.

mod common;

use std::collections::HashSet;

use common::*;
use tracing::info;
use tracing_subscriber::prelude::*;

#[test]
fn only_the_applications_http_calls_are_traced_not_the_exporters() {
    let collector = collector();
    let layer = builder(&collector)
        .level(tracing::Level::TRACE)
        .build()
        .expect("layer");
    let handle = layer.handle();
    tracing_subscriber::registry().with(layer).init();

    // The application's own HTTP call, on this thread.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{}/app", collector.url()))
            .header("x-api-key", TOKEN)
            .body("{}")
            .send()
            .await
            .expect("the application's request")
            .status()
    });
    assert!(status.is_success());
    for _ in 0..3 {
        info!("mine");
        handle.flush(WAIT).expect("delivered");
    }

    let items: Vec<_> = collector
        .items()
        .into_iter()
        .filter(|i| i.get("type").is_some())
        .collect();
    let mine = items.iter().filter(|i| i["msg-text"] == "mine").count();
    assert_eq!(mine, 3, "{items:#?}");
    let from_http_stack: Vec<_> = items
        .iter()
        .filter(|i| {
            i["resource"]
                .as_str()
                .is_some_and(|r| r.starts_with("hyper"))
        })
        .collect();
    assert!(
        !from_http_stack.is_empty(),
        "the application's hyper events are traced"
    );
    let threads: HashSet<_> = items.iter().map(|i| i["tid"].clone()).collect();
    assert_eq!(
        threads.len(),
        1,
        "every item comes from the application's thread: {items:#?}"
    );
}
