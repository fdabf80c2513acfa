//! Redaction, on by default: fields with sensitive names reach the
//! collector as "[redacted]", under their own names; `redact_values` masks
//! what the application says; a panicking mask loses nothing else.

mod common;

use std::process::{Command, Stdio};

use common::*;
use serde_json::{json, Value};
use tracing::{info, info_span, instrument};
use tracing_jkool::{JKoolEvent, JKoolKey, Snapshot};

const REDACTED: &str = "[redacted]";

#[instrument(skip_all, fields(user = %user, password = %password))]
fn login(user: &str, password: &str) {
    info!(
        api_key = "k-123",
        Authorization = "Bearer abc",
        db_password = "hunter2",
        order_no = 5,
        "logged in"
    );
}

/// The one event whose message is `text`.
fn event<'a>(items: &'a [Value], text: &str) -> &'a Value {
    find(items, "msg-text", text)
}

#[test]
fn sensitive_fields_of_spans_and_events_arrive_redacted_and_the_rest_unchanged() {
    let collector = collector();
    let items = run(&collector, builder(&collector), || login("ann", "hunter2"));
    assert_eq!(items.len(), 2, "{items:#?}");
    let activity = find(&items, "operation", "login");
    assert_eq!(
        property(activity, "password"),
        &json!({"name": "password", "type": "string", "value": REDACTED})
    );
    assert_eq!(property(activity, "user")["value"], "ann");
    let logged_in = event(&items, "logged in");
    for name in ["api_key", "Authorization", "db_password"] {
        assert_eq!(property(logged_in, name)["value"], REDACTED, "{name}");
    }
    assert_eq!(
        property(logged_in, "order_no"),
        &json!({"name": "order_no", "type": "long", "value": 5})
    );
    let wire = serde_json::to_string(&items).unwrap();
    for secret in ["hunter2", "k-123", "Bearer abc"] {
        assert!(!wire.contains(secret), "{secret} reached the collector");
    }
}

#[test]
fn a_span_field_recorded_later_and_a_number_are_redacted_too() {
    let collector = collector();
    let items = run(&collector, builder(&collector), || {
        let span = info_span!("call", auth.token = tracing::field::Empty, pin = 1234);
        span.record("auth.token", "t-1");
        info!(parent: &span, x_api_key = 42, "inside");
    });
    let call = find(&items, "operation", "call");
    assert_eq!(property(call, "token")["value"], REDACTED, "{call:#}");
    assert_eq!(property(call, "pin")["value"], 1234, "pin is not listed");
    let inside = event(&items, "inside");
    assert_eq!(
        property(inside, "x_api_key"),
        &json!({"name": "x_api_key", "type": "string", "value": REDACTED})
    );
}

#[test]
fn with_send_sensitive_fields_they_arrive_as_they_are() {
    let collector = collector();
    let builder = builder(&collector).send_sensitive_fields(true);
    let items = run(&collector, builder, || login("ann", "hunter2"));
    let activity = find(&items, "operation", "login");
    assert_eq!(property(activity, "password")["value"], "hunter2");
    let logged_in = event(&items, "logged in");
    assert_eq!(property(logged_in, "api_key")["value"], "k-123");
    assert_eq!(property(logged_in, "Authorization")["value"], "Bearer abc");
}

#[test]
fn added_names_are_redacted_with_the_default_list_on_or_off() {
    let collector = collector();
    let items = run(
        &collector,
        builder(&collector).redact_fields(["order_secret_code"]),
        || {
            info!(
                order_secret_code = 77,
                shop.orderSecretCode = "s",
                password = "p",
                "a"
            )
        },
    );
    let a = event(&items, "a");
    for name in ["order_secret_code", "orderSecretCode", "password"] {
        assert_eq!(property(a, name)["value"], REDACTED, "{name}");
    }

    let collector = common::collector();
    let builder = builder(&collector)
        .send_sensitive_fields(true)
        .redact_fields(["order_secret_code"]);
    let items = run(&collector, builder, || {
        info!(order_secret_code = 77, password = "p", "b")
    });
    let b = event(&items, "b");
    assert_eq!(property(b, "order_secret_code")["value"], REDACTED);
    assert_eq!(property(b, "password")["value"], "p");
}

/// Card numbers keep their last four digits.
fn mask_cards(_name: &str, value: &str) -> Option<String> {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 13).then(|| format!("****{}", &digits[digits.len() - 4..]))
}

#[test]
fn redact_values_masks_a_card_number_in_fields_and_messages() {
    let collector = collector();
    let builder = builder(&collector).redact_values(mask_cards);
    let items = run(&collector, builder, || {
        let card = "4111 1111 1111 1111";
        info!(
            card,
            amount = 12.5,
            number = 4_111_111_111_111_111_u64,
            "paid"
        );
        info!(message = card);
    });
    let paid = event(&items, "paid");
    assert_eq!(property(paid, "card")["value"], "****1111");
    assert_eq!(property(paid, "number")["value"], "****1111");
    assert_eq!(property(paid, "number")["type"], "string");
    assert_eq!(property(paid, "amount")["value"], 12.5);
    event(&items, "****1111");
}

#[test]
fn a_sensitive_field_mapped_to_a_jkool_key_and_a_sent_event_are_redacted() {
    let collector = collector();
    let builder = builder(&collector).field_as("db_password", JKoolKey::User);
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || {
        info!(db_password = "hunter2", "mapped");
        info!(jkool.user = "ann", "own user");
    });
    let sent = JKoolEvent::new("sent")
        .property("api_key", "k-1")
        .snapshot(Snapshot::new("Login").property("password", "p"));
    handle.send(sent);
    handle.flush(WAIT).expect("delivered");
    let items = collector.items();
    assert_eq!(event(&items, "mapped")["user"], REDACTED);
    assert_eq!(event(&items, "own user")["user"], "ann");
    let sent = event(&items, "sent");
    assert_eq!(sent["properties"][0]["value"], REDACTED, "{sent:#}");
    assert_eq!(property(sent, "password")["value"], REDACTED);
}

/// Set in the child process: the collector's URL.
const CHILD: &str = "TRACING_JKOOL_REDACTION_CHILD";

const NAME: &str = "a_panicking_redact_values_sends_redacted_says_so_once_and_delivery_goes_on";

/// In the child: a mask that panics on every `card`.
fn child(url: &str) {
    let builder = tracing_jkool::JKoolLayer::builder(TOKEN)
        .url(url)
        .redact_values(|name, _| match name {
            "card" => panic!("the mask failed"),
            _ => None,
        });
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..3 {
            info!(i, card = "4111", "panics");
        }
        info!(note = "fine", "after");
    });
    let result = handle.shutdown(WAIT);
    println!("CHILD sent={} result={result:?}", handle.stats().sent);
}

#[test]
fn a_panicking_redact_values_sends_redacted_says_so_once_and_delivery_goes_on() {
    if let Some(url) = std::env::var_os(CHILD) {
        return child(&url.to_string_lossy());
    }
    let collector = collector();
    let output = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", NAME, "--nocapture"])
        .env(CHILD, collector.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.contains("CHILD sent=4 result=Ok(())"),
        "{stdout} {stderr}"
    );
    let told = stderr
        .matches("the redact_values function panicked")
        .count();
    assert_eq!(told, 1, "{stderr}");
    assert!(
        stderr.contains("field `card`") && !stderr.contains("4111"),
        "{stderr}"
    );
    let items = collector.items();
    assert_eq!(items.len(), 4, "{items:#?}");
    for item in items.iter().filter(|i| i["msg-text"] == "panics") {
        assert_eq!(property(item, "card")["value"], REDACTED);
    }
    assert_eq!(property(event(&items, "after"), "note")["value"], "fine");
}
