//! The redactor's unit tests: what it leaves of fields and events.

use super::*;
use crate::item::snapshot::{Property, Snapshot};

fn redactor(rules: Rules) -> Redactor {
    Redactor::new(&rules)
}

fn masked(mask: impl Fn(&str, &str) -> Option<String> + Send + Sync + 'static) -> Rules {
    Rules {
        mask: Some(Mask(Arc::new(mask))),
        ..Rules::default()
    }
}

fn fields(recorded: &[(&'static str, Value)]) -> Fields {
    let mut fields = Fields::default();
    for (name, value) in recorded {
        fields.put(name, value.clone());
    }
    fields
}

fn redacted() -> Value {
    Value::from(REDACTED)
}

#[test]
fn sensitive_properties_become_redacted_text_under_their_own_names() {
    let mut fields = fields(&[
        ("password", Value::from("hunter2")),
        ("db_password", Value::from("x")),
        ("pin_code", Value::I64(1234)),
        ("order_no", Value::I64(5)),
        ("message", Value::from("login")),
    ]);
    let mut rules = Rules::default();
    rules.names.push("pin_code".into());
    redactor(rules).fields(&mut fields);
    assert_eq!(
        fields.properties[..],
        [
            ("password", redacted()),
            ("db_password", redacted()),
            ("pin_code", redacted()),
            ("order_no", Value::I64(5)),
        ]
    );
    assert_eq!(fields.message.as_deref(), Some("login"));
}

#[test]
fn nothing_is_redacted_with_the_default_list_off_and_nothing_added() {
    let mut fields = fields(&[("password", Value::from("hunter2"))]);
    let rules = Rules {
        send_sensitive: true,
        ..Rules::default()
    };
    redactor(rules).fields(&mut fields);
    assert_eq!(fields.properties[0].1, Value::from("hunter2"));
}

#[test]
fn a_name_seen_again_gets_the_same_answer() {
    let mut redactor = redactor(Rules::default());
    for _ in 0..3 {
        assert!(redactor.sensitive("api_key"));
        assert!(!redactor.sensitive("key"));
    }
    // A name that shares another's bytes is matched on its own.
    let both: &'static str = "tokens_token";
    let (first, last) = (&both[..6], &both[7..]);
    assert!(!redactor.sensitive(first));
    assert!(redactor.sensitive(last));
    assert!(redactor.sensitive(both));
}

#[test]
fn the_mask_sees_every_other_value_as_text_and_replaces_what_it_returns() {
    let mut fields = fields(&[
        ("card", Value::U64(4_111_111_111_111_111)),
        ("password", Value::from("hunter2")),
        ("note", Value::from("card 4111111111111111")),
        ("amount", Value::F64(12.5)),
        ("message", Value::from("paid with 4111111111111111")),
        ("error", Value::from("declined 4111111111111111")),
    ]);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    redactor(masked(move |name, value| {
        log.lock().unwrap().push(format!("{name}={value}"));
        (value.contains("4111111111111111")).then(|| value.replace("4111111111111111", "****"))
    }))
    .fields(&mut fields);
    assert_eq!(
        fields.properties[..],
        [
            ("card", Value::from("****")),
            ("password", redacted()),
            ("note", Value::from("card ****")),
            ("amount", Value::F64(12.5)),
        ]
    );
    assert_eq!(fields.message.as_deref(), Some("paid with ****"));
    assert_eq!(fields.error.as_deref(), Some("declined ****"));
    let seen = seen.lock().unwrap();
    assert!(seen.contains(&"amount=12.5".to_owned()), "{seen:?}");
    assert!(!seen.iter().any(|s| s.starts_with("password")), "{seen:?}");
}

#[test]
fn a_panicking_mask_redacts_the_value_and_the_rest_goes_on() {
    let mut fields = fields(&[
        ("boom", Value::from("x")),
        ("fine", Value::from("y")),
        ("boom", Value::from("z")),
    ]);
    let mut redactor = redactor(masked(|name, _| match name {
        "boom" => panic!("mask failed"),
        _ => None,
    }));
    redactor.fields(&mut fields);
    assert!(redactor.told);
    let values: Vec<&Value> = fields.properties.iter().map(|(_, v)| v).collect();
    assert_eq!(values, [&redacted(), &Value::from("y"), &redacted()]);
}

#[test]
fn jkool_keys_are_redacted_by_the_name_of_the_field_that_set_them() {
    let mut fields = fields(&[
        ("jkool.user", Value::from("ann")),
        ("jkool.corr_id", Value::from("order-5")),
    ]);
    let jkool = fields.jkool.as_deref_mut().unwrap();
    // As `field_as("password", JKoolKey::Location)` maps it.
    jkool.set("location", Value::from("hunter2"));
    jkool.mapped.push(("location", "password"));
    let mut rules = Rules::default();
    rules.names.push("user".into());
    redactor(rules).fields(&mut fields);
    let jkool = fields.jkool().unwrap();
    assert_eq!(jkool.location.as_deref(), Some(REDACTED));
    assert_eq!(
        jkool.user.as_deref(),
        Some(REDACTED),
        "jkool.user's last word"
    );
    assert_eq!(
        jkool.corr_id.as_deref(),
        Some("order-5"),
        "identifiers stay"
    );
}

#[test]
fn a_key_set_again_directly_is_judged_by_its_own_name() {
    let mut fields = fields(&[]);
    let jkool = fields.jkool.get_or_insert_with(Default::default);
    jkool.set("user", Value::from("hunter2"));
    jkool.mapped.push(("user", "password"));
    jkool.set("user", Value::from("ann"));
    assert!(jkool.mapped.is_empty());
    redactor(Rules::default()).fields(&mut fields);
    assert_eq!(fields.jkool().unwrap().user.as_deref(), Some("ann"));
}

#[test]
fn a_sent_events_properties_snapshots_and_message_are_redacted() {
    let event = JKoolEvent::new("card 4111111111111111")
        .property("api_key", "k-1")
        .snapshot(
            Snapshot::new("Login")
                .property("password", 5)
                .with(Property::new("user", "ann")),
        );
    let mut item = Item::JKoolEvent(Box::new(event));
    redactor(masked(|_, value| {
        value.starts_with("card").then(|| "card ****".into())
    }))
    .apply(&mut item);
    let Item::JKoolEvent(event) = item else {
        unreachable!()
    };
    let json = serde_json::to_value(&*event).unwrap();
    assert_eq!(json["msg-text"], "card ****");
    assert_eq!(json["properties"][0]["value"], REDACTED);
    let snapshot = &json["snapshots"][0]["properties"];
    assert_eq!(snapshot[0]["value"], REDACTED);
    assert_eq!(snapshot[0]["type"], "string");
    assert_eq!(snapshot[1]["value"], "ann");
}
