//! One request across two services, each a process with its own layer: an
//! axum server (this test binary, run again as `server_process`) and a
//! reqwest client. Every item of both sides for one call carries the same
//! trace id in `corrid`, and each call has its own.
//!
//! With `--features opentelemetry`, both processes install a
//! tracing-opentelemetry layer too, and the trace id is OpenTelemetry's.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use tracing::{info, info_span, Dispatch};
use tracing_jkool::propagation::{self, JKoolSpanExt, TraceContext};
use tracing_jkool::{Builder, JKoolHandle};
use tracing_subscriber::prelude::*;

/// Set in the server process: the collector's URL.
const SERVER_ENV: &str = "TRACING_JKOOL_TEST_SERVER";

/// The subscriber of one service: its layer, and OpenTelemetry's when the
/// feature is on.
fn service(builder: Builder) -> (Dispatch, JKoolHandle) {
    let layer = builder.build().expect("layer builds");
    let handle = layer.handle();
    #[cfg(feature = "opentelemetry")]
    let dispatch = {
        use opentelemetry::trace::TracerProvider as _;
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("tests"));
        Dispatch::new(tracing_subscriber::registry().with(otel).with(layer))
    };
    #[cfg(not(feature = "opentelemetry"))]
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    (dispatch, handle)
}

/// The trace id as the service's tracing backends see it: OpenTelemetry's
/// with the feature, else the layer's.
fn expected_trace_id(span: &tracing::Span) -> String {
    #[cfg(feature = "opentelemetry")]
    {
        use opentelemetry::trace::TraceContextExt as _;
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        let otel = span.context().span().span_context().trace_id().to_string();
        assert_eq!(Some(otel.clone()), span.trace_id().map(|t| t.to_string()));
        otel
    }
    #[cfg(not(feature = "opentelemetry"))]
    span.trace_id().expect("a trace id").to_string()
}

async fn serve_call(headers: axum::http::HeaderMap) -> String {
    let span = info_span!("server.request");
    if let Some(remote) = propagation::extract(&headers) {
        span.set_parent_context(remote);
    }
    span.in_scope(|| {
        info!("handling");
        info_span!("server.work").in_scope(|| info!("working"));
        expected_trace_id(&span)
    })
}

/// The server: runs only when started by the client test, serves until its
/// stdin closes, then delivers everything and exits.
#[test]
fn server_process() {
    let Ok(url) = std::env::var(SERVER_ENV) else {
        return;
    };
    let builder = tracing_jkool::JKoolLayer::builder(TOKEN)
        .url(url)
        .source_fqn("APPL=Server")
        .flush_interval(Duration::from_millis(50));
    let (dispatch, handle) = service(builder);
    tracing::dispatcher::set_global_default(dispatch).expect("first subscriber");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        println!("PORT {}", listener.local_addr().expect("addr").port());
        let stop = async {
            // Stdin closes when the client is done.
            let _ =
                tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await;
        };
        let app = axum::Router::new().route("/call", axum::routing::get(serve_call));
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
            .expect("serves");
    });
    handle.shutdown(WAIT).expect("server delivers");
}

/// Starts the server process and reads its port.
fn start_server(collector_url: &str) -> (Child, u16) {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "server_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SERVER_ENV, collector_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("server starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut port = None;
    let mut line = String::new();
    for _ in 0..50 {
        line.clear();
        if stdout.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        // The harness may have written "test server_process ... " first.
        if let Some(found) = line.split("PORT ").nth(1) {
            port = Some(found.trim().parse().expect("a port"));
            break;
        }
    }
    // The rest of its output (the harness's report) must not hit a
    // closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let port = port.expect("the server prints its port");
    (child, port)
}

/// Closes the server's stdin and waits for it to deliver and exit.
fn stop_server(mut child: Child) {
    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "server failed: {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    panic!("the server did not stop");
}

/// What one call saw: the trace id and the `traceparent` it sent.
struct Call {
    trace_id: String,
    traceparent: String,
    answer: String,
}

fn call(port: u16, outer: Option<&TraceContext>, case: u32) -> Call {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = reqwest::Client::new();
    let span = info_span!("client.call", case);
    if let Some(outer) = outer {
        span.set_parent_context(outer.clone());
    }
    let _entered = span.enter();
    let mut headers = http::HeaderMap::new();
    propagation::inject(&mut headers);
    let traceparent = headers["traceparent"].to_str().expect("ascii").to_owned();
    let answer = runtime.block_on(async {
        let url = format!("http://127.0.0.1:{port}/call");
        let response = client.get(url).headers(headers).send().await;
        response.expect("answered").text().await.expect("a body")
    });
    info!(answer, "answered");
    Call {
        trace_id: expected_trace_id(&span),
        traceparent,
        answer,
    }
}

#[test]
fn two_services_share_one_trace_id_per_call() {
    let collector = collector();
    let (server, port) = start_server(&collector.url());
    let (dispatch, handle) = service(builder(&collector).source_fqn("APPL=Client"));
    let outer = TraceContext::parse(
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        Some("vendor=opaque"),
    )
    .expect("valid");
    let calls = tracing::dispatcher::with_default(&dispatch, || {
        [
            call(port, None, 1),
            call(port, Some(&outer), 2),
            call(port, None, 3),
        ]
    });
    stop_server(server);
    handle.flush(WAIT).expect("client delivers");
    let items = collector.wait_for_items(18, WAIT);
    assert_eq!(items.len(), 18, "{items:#?}");
    items.iter().for_each(assert_contract);

    assert_eq!(calls[1].trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert!(calls[1]
        .traceparent
        .starts_with("00-0af7651916cd43dd8448eb211c80319c-"));
    assert_ne!(calls[0].trace_id, calls[2].trace_id);
    for call in &calls {
        assert_eq!(call.answer, call.trace_id, "the server saw the same trace");
        let mine: Vec<&Value> = items
            .iter()
            .filter(|i| i["corrid"][0] == call.trace_id.as_str())
            .collect();
        let names = |fqn: &str| {
            let mut names: Vec<String> = mine
                .iter()
                .filter(|i| i["source-fqn"] == fqn)
                .map(|i| match i["type"].as_str() {
                    Some("EVENT") => format!("EVENT {}", i["msg-text"].as_str().unwrap_or("")),
                    _ => format!("ACTIVITY {}", i["operation"].as_str().unwrap_or("")),
                })
                .collect();
            names.sort();
            names
        };
        assert_eq!(
            names("APPL=Client"),
            ["ACTIVITY client.call", "EVENT answered"]
        );
        assert_eq!(
            names("APPL=Server"),
            [
                "ACTIVITY server.request",
                "ACTIVITY server.work",
                "EVENT handling",
                "EVENT working"
            ]
        );
        for item in &mine {
            assert_eq!(item["corrid"], json!([call.trace_id]), "{item:#}");
        }
        // The server's activity names the client's span as its caller.
        let request = mine
            .iter()
            .find(|i| i["operation"] == "server.request")
            .expect("server.request");
        assert_eq!(
            property(request, "parent_span_id")["value"],
            call.traceparent[36..52]
        );
    }
}

#[test]
fn the_continuing_client_span_records_the_remote_caller() {
    let collector = collector();
    let (dispatch, handle) = service(builder(&collector));
    let outer = TraceContext::parse(
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        Some("vendor=opaque"),
    )
    .expect("valid");
    let mut headers = http::HeaderMap::new();
    tracing::dispatcher::with_default(&dispatch, || {
        let span = info_span!("continued");
        span.set_parent_context(outer);
        span.in_scope(|| {
            info_span!("child").in_scope(|| propagation::inject(&mut headers));
        });
    });
    handle.flush(WAIT).expect("delivered");
    let items = collector.items();
    let continued = find(&items, "operation", "continued");
    assert_eq!(
        property(continued, "parent_span_id")["value"],
        "b7ad6b7169203331"
    );
    assert_eq!(
        continued["corrid"],
        json!(["0af7651916cd43dd8448eb211c80319c"])
    );
    let child = find(&items, "operation", "child");
    assert!(!property_names(child).contains(&"parent_span_id".to_owned()));
    assert_eq!(headers["tracestate"], "vendor=opaque");
    let parent = headers["traceparent"].to_str().expect("ascii");
    assert!(parent.starts_with("00-0af7651916cd43dd8448eb211c80319c-"));
    assert!(parent.ends_with("-01"));
}

/// With OpenTelemetry's own `set_parent` (not `set_parent_context`), the
/// trace id still comes from OpenTelemetry: read when the span is left and
/// when it closes, and from the nearest span for events.
#[cfg(feature = "opentelemetry")]
#[test]
fn the_opentelemetry_trace_id_wins_when_set_by_opentelemetry() {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId as OtelTraceId, TraceState,
    };
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;

    for otel_first in [true, false] {
        let collector = collector();
        let layer = builder(&collector).build().expect("layer builds");
        let handle = layer.handle();
        let dispatch = {
            use opentelemetry::trace::TracerProvider as _;
            let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
            let tracer = provider.tracer("tests");
            if otel_first {
                let otel = tracing_opentelemetry::layer().with_tracer(tracer);
                Dispatch::new(tracing_subscriber::registry().with(otel).with(layer))
            } else {
                let otel = tracing_opentelemetry::layer().with_tracer(tracer);
                Dispatch::new(tracing_subscriber::registry().with(layer).with(otel))
            }
        };
        let remote = SpanContext::new(
            OtelTraceId::from_hex("0af7651916cd43dd8448eb211c80319c").expect("hex"),
            SpanId::from_hex("b7ad6b7169203331").expect("hex"),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        tracing::dispatcher::with_default(&dispatch, || {
            let span = info_span!("otel.root");
            let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
            span.in_scope(|| {
                info!("inside");
                info_span!("otel.child").in_scope(|| info!("deeper"));
            });
        });
        handle.flush(WAIT).expect("delivered");
        let items = collector.items();
        assert_eq!(items.len(), 4, "{items:#?}");
        for item in &items {
            assert_eq!(
                item["corrid"],
                json!(["0af7651916cd43dd8448eb211c80319c"]),
                "otel first: {otel_first}: {item:#}"
            );
        }
    }
}
