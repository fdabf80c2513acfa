//! The field visitor's unit tests.
use super::*;

/// Runs `f` with a visitor over the fields of a real event.
fn capture(f: impl FnOnce()) -> Fields {
    use std::sync::{Arc, Mutex};
    use tracing::Subscriber;
    use tracing_subscriber::layer::{Context, SubscriberExt};

    struct Grab(Arc<Mutex<Fields>>);
    impl<S: Subscriber> tracing_subscriber::Layer<S> for Grab {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            let mut fields = Fields::default();
            event.record(&mut fields);
            *self.0.lock().unwrap() = fields;
        }
    }
    let out = Arc::new(Mutex::new(Fields::default()));
    let subscriber = tracing_subscriber::registry().with(Grab(out.clone()));
    tracing::subscriber::with_default(subscriber, f);
    let fields = out.lock().unwrap().clone();
    fields
}

#[test]
fn keeps_each_rust_type() {
    let fields = capture(|| {
        tracing::info!(
            a = 5_i64,
            b = 7_u64,
            c = 1.5,
            d = true,
            e = "text",
            f = -3_i128,
            g = u128::MAX,
            h = ?vec![1, 2],
            "msg {}",
            1
        )
    });
    assert_eq!(fields.message.as_deref(), Some("msg 1"));
    assert_eq!(
        fields.properties[..],
        [
            ("a", Value::I64(5)),
            ("b", Value::U64(7)),
            ("c", Value::F64(1.5)),
            ("d", Value::Bool(true)),
            ("e", Value::Str("text".into())),
            ("f", Value::I128(-3)),
            ("g", Value::U128(u128::MAX)),
            ("h", Value::Str("[1, 2]".into())),
        ]
    );
    assert!(fields.jkool.is_none());
}

#[test]
fn jkool_fields_set_jkool_keys_and_ordinary_names_stay_properties() {
    let fields = capture(|| {
        tracing::info!(
            jkool.corr_id = "order-5",
            jkool.user = "ann",
            jkool.reason_code = 42,
            jkool.unknown = 1,
            user = "bob",
            "x"
        )
    });
    let jkool = fields.jkool().unwrap();
    assert_eq!(jkool.corr_id.as_deref(), Some("order-5"));
    assert_eq!(jkool.user.as_deref(), Some("ann"));
    assert_eq!(jkool.reason_code, Some(Value::I64(42)));
    assert_eq!(
        fields.properties[..],
        [
            ("jkool.unknown", Value::I64(1)),
            ("user", Value::Str("bob".into()))
        ]
    );
}

#[test]
fn error_fields_carry_the_source_chain() {
    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("card declined")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    let err = Outer(std::io::Error::other("gateway timeout"));
    let fields =
        capture(|| tracing::error!(error = &err as &(dyn std::error::Error + 'static), "failed"));
    assert_eq!(
        fields.error.as_deref(),
        Some("card declined: gateway timeout")
    );
    assert!(fields.properties.is_empty(), "`error` is not a property");
}

#[test]
fn long_values_are_cut_on_a_character_boundary_with_a_marker() {
    assert_eq!(
        bounded(4, |w| w.write_str("abcdef")),
        format!("abcd{TRUNCATED}")
    );
    // "é" is two bytes: the cut falls before it, not inside it.
    assert_eq!(
        bounded(4, |w| w.write_str("abcé")),
        format!("abc{TRUNCATED}")
    );
    // A text field is cut the same way, without formatting.
    for (limit, text) in [
        (4, "abcdef"),
        (4, "abcé"),
        (4, "abcd"),
        (0, "é"),
        (9, "short"),
    ] {
        assert_eq!(cut(limit, text), bounded(limit, |w| w.write_str(text)));
    }
    assert_eq!(bounded(6, |w| write!(w, "{:?}", "ab")), "\"ab\"");
    let huge = bounded(10, |w| write!(w, "{:?}", vec![0u8; 1_000_000]));
    assert_eq!(huge.len(), 10 + TRUNCATED.len());
}

#[test]
fn a_panicking_debug_gives_a_marker_not_a_panic() {
    struct Boom;
    impl fmt::Debug for Boom {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("Debug exploded")
        }
    }
    let fields = capture(|| tracing::info!(bad = ?Boom, good = 1, "still here"));
    assert_eq!(fields.message.as_deref(), Some("still here"));
    assert_eq!(
        fields.properties[..],
        [
            ("bad", Value::Str(PANICKED.into())),
            ("good", Value::I64(1))
        ]
    );
}
