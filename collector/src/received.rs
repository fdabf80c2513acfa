//! [`Received`]: typed views of the received items, for a user's own
//! integration tests.

use std::fmt;

use serde_json::Value;

use super::tree::line::{self, correlators, elapsed, int, list, parent_id, start_time, text};
use super::tree::{self, render_tree, Forest};

/// What a [`Collector`](crate::Collector) received, read into typed views:
/// the activities (spans), the events, and the snapshots posted on their
/// own, each in arrival order. Get it from
/// [`Collector::received`](crate::Collector::received), or from items you
/// hold with [`Received::new`].
///
/// Lookups answer the questions a test asks: [`activity`](Self::activity)
/// ("the activity named `checkout`"), [`event`](Self::event),
/// [`children`](Self::children) ("what ran inside it"),
/// [`parent`](Self::parent) and [`roots`](Self::roots). Parents and
/// children are linked by `parent-id` the way [`render_tree`] links them,
/// and children come earliest first.
///
/// Reading is tolerant: a missing key is `None` (or empty), an item that is
/// not a JSON object is left out of every list (it still shows in
/// [`tree`](Self::tree) and [`items`](Self::items)).
///
/// ```
/// use serde_json::json;
/// use tracing_jkool_collector::{PropertyValue, Received};
///
/// let received = Received::new(&[
///     json!({"type": "EVENT", "tracking-id": "e", "parent-id": "a", "severity": "INFO",
///            "msg-text": "paid", "properties": [{"name": "amount", "type": "long", "value": "42"}]}),
///     json!({"type": "ACTIVITY", "tracking-id": "a", "operation": "checkout", "status": "END",
///            "corrid": ["order-5"]}),
/// ]);
/// let checkout = received.activity("checkout");
/// assert_eq!(checkout.correlators, ["order-5"]);
/// let paid = received.event("paid");
/// assert_eq!(paid.severity.as_deref(), Some("INFO"));
/// assert_eq!(paid.property("amount"), Some(&PropertyValue::Long(42)));
/// assert_eq!(received.parent(paid.parent_id.as_deref()).map(|a| &a.operation), Some(&checkout.operation));
/// assert_eq!(received.children(checkout).events, [paid]);
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct Received {
    /// Items of type `ACTIVITY`, in arrival order.
    pub activities: Vec<Activity>,
    /// Items of type `EVENT`, or of none, or of another event-like type
    /// (`LOG`, `CALL`, ...; see [`Event::kind`]), in arrival order.
    pub events: Vec<Event>,
    /// Items of type `SNAPSHOT`, posted on their own rather than inside an
    /// activity or event, in arrival order.
    pub snapshots: Vec<Snapshot>,
    items: Vec<Value>,
    /// What each item became, item for item.
    views: Vec<View>,
    /// Each item's received parent and children (as item numbers).
    parent: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
}

/// Where an item's typed view lives.
#[derive(Debug, Clone, Copy)]
enum View {
    Activity(usize),
    Event(usize),
    Snapshot(usize),
    /// Not a JSON object.
    None,
}

/// A jKool activity (a span), as received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Activity {
    /// `operation`: the span's name unless `jkool.operation` set it; empty
    /// when absent.
    pub operation: String,
    /// `tracking-id`.
    pub tracking_id: Option<String>,
    /// `parent-id` (or `parent-tracking-id`): the enclosing activity's
    /// tracking id.
    pub parent_id: Option<String>,
    /// `status`, e.g. `END` or `EXCEPTION`.
    pub status: Option<String>,
    /// `severity`, as sent, e.g. `INFO`.
    pub severity: Option<String>,
    /// `corrid` (or `corr-id`): the trace id first, then `jkool.corr_id`
    /// values.
    pub correlators: Vec<String>,
    /// `exception`, if any.
    pub exception: Option<String>,
    /// `source-fqn`, e.g. `APPL=Shop#SERVER=web1`.
    pub source_fqn: Option<String>,
    /// `start-time-usec` (else `time-usec`), microseconds since the epoch.
    pub start_usec: Option<i64>,
    /// `elapsed-time-usec` (else end minus start), in microseconds.
    pub elapsed_usec: Option<i64>,
    /// The snapshots embedded in `snapshots`; the span's fields are the
    /// properties of these.
    pub snapshots: Vec<Snapshot>,
    /// The item as received.
    pub json: Value,
    item: usize,
}

/// A jKool event, as received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// `type`, upper-cased: `EVENT` (also when absent), or another
    /// event-like type such as `LOG` or `CALL`.
    pub kind: String,
    /// `msg-text`: the event's message.
    pub message: Option<String>,
    /// `operation`: the event's name, if sent.
    pub operation: Option<String>,
    /// `tracking-id`.
    pub tracking_id: Option<String>,
    /// `parent-id` (or `parent-tracking-id`): the enclosing activity's
    /// tracking id.
    pub parent_id: Option<String>,
    /// `severity`, as sent, e.g. `INFO` or `ERROR`.
    pub severity: Option<String>,
    /// `corrid` (or `corr-id`).
    pub correlators: Vec<String>,
    /// `exception`, if any.
    pub exception: Option<String>,
    /// `source-fqn`.
    pub source_fqn: Option<String>,
    /// `time-usec` (else `start-time-usec`), microseconds since the epoch.
    pub time_usec: Option<i64>,
    /// Properties sent on the event itself, in `properties`.
    pub properties: Vec<Property>,
    /// The snapshots embedded in `snapshots`; the event's fields are the
    /// properties of these.
    pub snapshots: Vec<Snapshot>,
    /// The item as received.
    pub json: Value,
    item: usize,
}

/// A jKool snapshot: a named, categorized set of properties, embedded in an
/// activity or event or posted on its own.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Snapshot {
    /// `name`.
    pub name: Option<String>,
    /// `category`.
    pub category: Option<String>,
    /// `parent-id`, when sent (always, for one posted on its own).
    pub parent_id: Option<String>,
    /// `properties`, in the order sent.
    pub properties: Vec<Property>,
}

/// One typed property of a snapshot or an event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Property {
    /// `name`; empty when absent.
    pub name: String,
    /// `value`, read in its declared `type`.
    pub value: PropertyValue,
    /// `value-type`: the unit or kind jKool shows, e.g. `age.msec` or
    /// `currency.usd`.
    pub value_type: Option<String>,
}

/// A property's value, read in the data type it was declared with (`type`),
/// whether the JSON value is a number or, as the Java client sends every
/// value, a string.
///
/// ```
/// use tracing_jkool_collector::PropertyValue;
///
/// assert_eq!(PropertyValue::Long(42).as_f64(), Some(42.0));
/// assert_eq!(PropertyValue::Text("card".into()).as_str(), Some("card"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PropertyValue {
    /// Type `long` (or `int`, `integer`, `short`, `byte`), or an untyped
    /// integer.
    Long(i64),
    /// Type `double` (or `float`, `number`), or an untyped float.
    Double(f64),
    /// Type `bool` (or `boolean`), or an untyped boolean.
    Bool(bool),
    /// Type `string`, or an untyped string.
    Text(String),
    /// Anything else: a value that does not read as its declared type, an
    /// array or object, or none (`null`).
    Other(Value),
}

/// The activities, events and snapshots whose parent is one activity, each
/// earliest first; see [`Received::children`].
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Children<'a> {
    /// Activities inside it: the spans it entered.
    pub activities: Vec<&'a Activity>,
    /// Events inside it.
    pub events: Vec<&'a Event>,
    /// Snapshots posted on their own with it as parent.
    pub snapshots: Vec<&'a Snapshot>,
}

impl Received {
    /// Reads `items` (as [`Collector::items`](crate::Collector::items) or
    /// [`Collector::wait_for_items`](crate::Collector::wait_for_items)
    /// return them).
    pub fn new(items: &[Value]) -> Received {
        Received::from_items(items.to_vec())
    }

    /// [`new`](Self::new), keeping `items` rather than a copy.
    pub(crate) fn from_items(items: Vec<Value>) -> Received {
        let mut received = Received::default();
        for (i, item) in items.iter().enumerate() {
            let view = if !item.is_object() {
                View::None
            } else {
                match text(item, "type").map(str::to_ascii_uppercase).as_deref() {
                    Some("ACTIVITY") => {
                        received.activities.push(Activity::read(item, i));
                        View::Activity(received.activities.len() - 1)
                    }
                    Some("SNAPSHOT") => {
                        received.snapshots.push(Snapshot::read(item));
                        View::Snapshot(received.snapshots.len() - 1)
                    }
                    kind => {
                        let kind = kind.unwrap_or("EVENT").to_string();
                        received.events.push(Event::read(item, kind, i));
                        View::Event(received.events.len() - 1)
                    }
                }
            };
            received.views.push(view);
        }
        let forest = Forest::new(&items);
        received.parent = forest.parent;
        received.children = forest.children;
        received.items = items;
        received
    }

    /// The first activity (in arrival order) whose operation is
    /// `operation`.
    ///
    /// # Panics
    ///
    /// If there is none; the message shows the [`tree`](Self::tree) of what
    /// was received. [`find_activity`](Self::find_activity) does not panic.
    #[track_caller]
    pub fn activity(&self, operation: &str) -> &Activity {
        match self.find_activity(operation) {
            Some(activity) => activity,
            None => panic!(
                "no activity with operation {operation:?} among the {} item(s) received:\n{}",
                self.items.len(),
                self.tree()
            ),
        }
    }

    /// The first activity (in arrival order) whose operation is
    /// `operation`, if any.
    pub fn find_activity(&self, operation: &str) -> Option<&Activity> {
        self.activities.iter().find(|a| a.operation == operation)
    }

    /// The first event (in arrival order) whose message (`msg-text`) is
    /// `message`, or, for an event without one, whose operation is.
    ///
    /// # Panics
    ///
    /// If there is none; the message shows the [`tree`](Self::tree) of what
    /// was received. [`find_event`](Self::find_event) does not panic.
    #[track_caller]
    pub fn event(&self, message: &str) -> &Event {
        match self.find_event(message) {
            Some(event) => event,
            None => panic!(
                "no event with message {message:?} among the {} item(s) received:\n{}",
                self.items.len(),
                self.tree()
            ),
        }
    }

    /// The first event (in arrival order) whose message (`msg-text`) is
    /// `message`, or, for an event without one, whose operation is; if any.
    pub fn find_event(&self, message: &str) -> Option<&Event> {
        self.events.iter().find(|e| match &e.message {
            Some(m) => m == message,
            None => e.operation.as_deref() == Some(message),
        })
    }

    /// The activity whose tracking id is `tracking_id`, if it arrived (the
    /// first, if several share it).
    pub fn activity_by_id(&self, tracking_id: &str) -> Option<&Activity> {
        self.activities
            .iter()
            .find(|a| a.tracking_id.as_deref() == Some(tracking_id))
    }

    /// The activity a parent id (an [`Activity::parent_id`] or
    /// [`Event::parent_id`], `as_deref()`) names, if it arrived.
    pub fn parent(&self, parent_id: Option<&str>) -> Option<&Activity> {
        self.activity_by_id(parent_id?)
    }

    /// What arrived with `activity` as its parent: the activities, events and
    /// snapshots inside it, each earliest first (by start time, then
    /// arrival).
    pub fn children(&self, activity: &Activity) -> Children<'_> {
        let mut children = Children::default();
        let kids = self.children.get(activity.item).into_iter().flatten();
        for &kid in kids {
            match self.views.get(kid).copied().unwrap_or(View::None) {
                View::Activity(a) => children.activities.extend(self.activities.get(a)),
                View::Event(e) => children.events.extend(self.events.get(e)),
                View::Snapshot(s) => children.snapshots.extend(self.snapshots.get(s)),
                View::None => {}
            }
        }
        children
    }

    /// The activities whose parent did not arrive (or that have none): the
    /// root spans, in arrival order.
    pub fn roots(&self) -> Vec<&Activity> {
        self.activities
            .iter()
            .filter(|a| self.parent.get(a.item).copied().flatten().is_none())
            .collect()
    }

    /// The items as received, in arrival order.
    pub fn items(&self) -> &[Value] {
        &self.items
    }

    /// The items as a human-readable activity tree: [`render_tree`] of
    /// [`items`](Self::items). Compare it with a string, or with a stored
    /// snapshot (`insta::assert_snapshot!(received.tree())`); see
    /// [`render_tree`] for what varies from run to run.
    pub fn tree(&self) -> String {
        render_tree(&self.items)
    }

    /// [`tree`](Self::tree) without what changes from run to run: no
    /// durations, each trace-id correlator as `<trace-id>`, and each
    /// duration or time property (value type `age.*` or `timestamp`, e.g. a
    /// span's `busy` and `idle`) as `busy=<age.usec>`. The same
    /// code sends the same tree each time, so it can be compared with a
    /// string, or with a stored snapshot:
    /// `insta::assert_snapshot!(received.stable_tree())`.
    ///
    /// ```
    /// use serde_json::json;
    /// use tracing_jkool_collector::Received;
    ///
    /// let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    /// let received = Received::new(&[
    ///     json!({"type": "EVENT", "parent-id": "a", "severity": "INFO", "msg-text": "paid",
    ///            "corrid": [trace]}),
    ///     json!({"type": "ACTIVITY", "tracking-id": "a", "operation": "checkout", "status": "END",
    ///            "elapsed-time-usec": 1234, "corrid": [trace, "order-5"]}),
    /// ]);
    /// assert_eq!(
    ///     received.stable_tree(),
    ///     "▶ checkout  END  corrid=<trace-id>,order-5\n\
    ///      └─ • INFO  paid  corrid=<trace-id>\n"
    /// );
    /// ```
    pub fn stable_tree(&self) -> String {
        tree::render(&self.items, true)
    }

    /// Number of items received.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing was received.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl fmt::Debug for Received {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Received")
            .field("activities", &self.activities)
            .field("events", &self.events)
            .field("snapshots", &self.snapshots)
            .finish_non_exhaustive()
    }
}

fn owned(item: &Value, key: &str) -> Option<String> {
    text(item, key).map(str::to_string)
}

fn correlators_of(item: &Value) -> Vec<String> {
    correlators(item).into_iter().map(str::to_string).collect()
}

fn snapshots_of(item: &Value) -> Vec<Snapshot> {
    list(item, "snapshots").map(Snapshot::read).collect()
}

fn properties_of(item: &Value) -> Vec<Property> {
    list(item, "properties").map(Property::read).collect()
}

/// The first property named `name` in `properties`, then in each snapshot.
fn find_property<'a>(
    properties: &'a [Property],
    snapshots: &'a [Snapshot],
    name: &str,
) -> Option<&'a PropertyValue> {
    properties
        .iter()
        .chain(snapshots.iter().flat_map(|s| &s.properties))
        .find(|p| p.name == name)
        .map(|p| &p.value)
}

impl Activity {
    fn read(item: &Value, index: usize) -> Activity {
        Activity {
            operation: owned(item, "operation").unwrap_or_default(),
            tracking_id: owned(item, "tracking-id"),
            parent_id: parent_id(item).map(str::to_string),
            status: owned(item, "status"),
            severity: owned(item, "severity"),
            correlators: correlators_of(item),
            exception: owned(item, "exception"),
            source_fqn: owned(item, "source-fqn"),
            start_usec: start_time(item),
            elapsed_usec: elapsed(item),
            snapshots: snapshots_of(item),
            json: item.clone(),
            item: index,
        }
    }

    /// The value of the first property named `name` in its snapshots: a
    /// field of the span, e.g. `order` for `#[instrument] fn f(order: u64)`.
    pub fn property(&self, name: &str) -> Option<&PropertyValue> {
        find_property(&[], &self.snapshots, name)
    }

    /// Every property of its snapshots, in order.
    pub fn properties(&self) -> impl Iterator<Item = &Property> {
        self.snapshots.iter().flat_map(|s| &s.properties)
    }
}

impl Event {
    fn read(item: &Value, kind: String, index: usize) -> Event {
        Event {
            kind,
            message: owned(item, "msg-text"),
            operation: owned(item, "operation"),
            tracking_id: owned(item, "tracking-id"),
            parent_id: parent_id(item).map(str::to_string),
            severity: owned(item, "severity"),
            correlators: correlators_of(item),
            exception: owned(item, "exception"),
            source_fqn: owned(item, "source-fqn"),
            time_usec: int(item, "time-usec").or_else(|| start_time(item)),
            properties: properties_of(item),
            snapshots: snapshots_of(item),
            json: item.clone(),
            item: index,
        }
    }

    /// The value of the first property named `name`, in
    /// [`properties`](Self::properties) and then in its snapshots: a field
    /// of the event, e.g. `amount` for `info!(amount = 42, "paid")`.
    pub fn property(&self, name: &str) -> Option<&PropertyValue> {
        find_property(&self.properties, &self.snapshots, name)
    }
}

impl Snapshot {
    fn read(item: &Value) -> Snapshot {
        Snapshot {
            name: owned(item, "name"),
            category: owned(item, "category"),
            parent_id: parent_id(item).map(str::to_string),
            properties: properties_of(item),
        }
    }

    /// The value of the first property named `name`, if any.
    pub fn property(&self, name: &str) -> Option<&PropertyValue> {
        find_property(&self.properties, &[], name)
    }
}

impl Property {
    fn read(prop: &Value) -> Property {
        let value = prop.get("value").cloned().unwrap_or(Value::Null);
        Property {
            name: owned(prop, "name").unwrap_or_default(),
            value: PropertyValue::read(line::text(prop, "type"), value),
            value_type: owned(prop, "value-type"),
        }
    }
}

impl PropertyValue {
    /// `value` read as data type `kind`.
    fn read(kind: Option<&str>, value: Value) -> PropertyValue {
        let kind = kind.map(str::to_ascii_lowercase);
        let typed = match kind.as_deref() {
            Some("long" | "int" | "integer" | "short" | "byte") => long(&value),
            Some("double" | "float" | "number") => double(&value),
            Some("bool" | "boolean") => boolean(&value),
            Some("string") => value.as_str().map(|s| PropertyValue::Text(s.to_string())),
            _ => None,
        };
        typed.unwrap_or(match value {
            Value::Bool(b) => PropertyValue::Bool(b),
            Value::String(s) => PropertyValue::Text(s),
            Value::Number(n) => match n.as_i64() {
                Some(i) => PropertyValue::Long(i),
                None => n.as_f64().map_or(
                    PropertyValue::Other(Value::Number(n)),
                    PropertyValue::Double,
                ),
            },
            other => PropertyValue::Other(other),
        })
    }

    /// The integer of a [`Long`](Self::Long).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            PropertyValue::Long(i) => Some(*i),
            _ => None,
        }
    }

    /// The number of a [`Double`](Self::Double), or of a
    /// [`Long`](Self::Long) as a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            PropertyValue::Double(f) => Some(*f),
            PropertyValue::Long(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The boolean of a [`Bool`](Self::Bool).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            PropertyValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The text of a [`Text`](Self::Text).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PropertyValue::Text(s) => Some(s),
            _ => None,
        }
    }
}

fn long(value: &Value) -> Option<PropertyValue> {
    let i = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    i.map(PropertyValue::Long)
}

fn double(value: &Value) -> Option<PropertyValue> {
    let f = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    f.map(PropertyValue::Double)
}

fn boolean(value: &Value) -> Option<PropertyValue> {
    let b = match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    };
    b.map(PropertyValue::Bool)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn links_children_and_parents_in_time_order() {
        let received = Received::new(&[
            json!({"type": "EVENT", "tracking-id": "e2", "parent-id": "a", "time-usec": 30, "msg-text": "late"}),
            json!({"type": "EVENT", "tracking-id": "e1", "parent-id": "a", "time-usec": 10, "msg-text": "early"}),
            json!({"type": "ACTIVITY", "tracking-id": "b", "parent-id": "a", "operation": "inner",
                   "start-time-usec": 20, "end-time-usec": 25}),
            json!({"type": "ACTIVITY", "tracking-id": "a", "operation": "outer", "start-time-usec": 5,
                   "elapsed-time-usec": 40}),
            json!({"type": "ACTIVITY", "tracking-id": "o", "parent-id": "gone", "operation": "orphan"}),
            json!({"type": "SNAPSHOT", "name": "cpu", "parent-id": "a",
                   "properties": [{"name": "load", "type": "double", "value": "0.5"}]}),
            json!([1, 2]),
        ]);
        assert_eq!(received.len(), 7);
        let outer = received.activity("outer");
        let kids = received.children(outer);
        let messages: Vec<_> = kids.events.iter().map(|e| e.message.as_deref()).collect();
        assert_eq!(messages, [Some("early"), Some("late")]);
        assert_eq!(kids.activities, [received.activity("inner")]);
        assert_eq!(
            kids.snapshots[0].property("load"),
            Some(&PropertyValue::Double(0.5))
        );
        assert_eq!(received.activity("inner").elapsed_usec, Some(5));
        assert_eq!(outer.elapsed_usec, Some(40));
        let roots: Vec<_> = received.roots().iter().map(|a| &a.operation).collect();
        assert_eq!(roots, ["outer", "orphan"]);
        assert_eq!(
            received.parent(received.event("late").parent_id.as_deref()),
            Some(outer)
        );
        assert!(received.parent(outer.parent_id.as_deref()).is_none());
        assert!(received.find_activity("nope").is_none());
        assert!(received.find_event("nope").is_none());
        assert!(received.tree().contains("▶ outer  40 µs"));
        assert!(received.stable_tree().starts_with("▶ outer\n"));
    }

    #[test]
    fn a_stable_tree_hides_durations_trace_ids_and_times() {
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        let items = [
            json!({"type": "ACTIVITY", "operation": "op", "elapsed-time-usec": 7,
            "corrid": [trace, "o-1"], "snapshots": [{"name": "s", "properties": [
                {"name": "busy", "type": "long", "value": 48, "value-type": "age.usec"},
                {"name": "at", "type": "long", "value": 1, "value-type": "timestamp"},
                {"name": "n", "type": "long", "value": 2, "value-type": "counter"}]}]}),
        ];
        let received = Received::new(&items);
        assert_eq!(
            received.stable_tree(),
            "▶ op  corrid=<trace-id>,o-1\n└─ ◆ s  busy=<age.usec> at=<timestamp> n=2\n"
        );
        assert_eq!(
            received.tree(),
            format!("▶ op  7 µs  corrid={trace},o-1\n└─ ◆ s  busy=48 at=1 n=2\n")
        );
    }

    #[test]
    fn reads_properties_in_their_declared_type() {
        let received = Received::new(&[json!({
            "msg-text": "typed", "corr-id": "c-1",
            "snapshots": [{"name": "fields", "properties": [
                {"name": "n", "type": "long", "value": "7"},
                {"name": "m", "type": "long", "value": 8},
                {"name": "f", "type": "double", "value": 1.5},
                {"name": "b", "type": "boolean", "value": "true"},
                {"name": "s", "type": "string", "value": "x", "value-type": "id"},
                {"name": "bad", "type": "long", "value": "seven"},
                {"name": "raw", "value": [1]},
                {"name": "none"},
            ]}],
        })]);
        let event = received.event("typed");
        assert_eq!(event.kind, "EVENT");
        assert_eq!(event.correlators, ["c-1"]);
        let value = |name| event.property(name).cloned();
        assert_eq!(value("n"), Some(PropertyValue::Long(7)));
        assert_eq!(value("m"), Some(PropertyValue::Long(8)));
        assert_eq!(value("f").and_then(|v| v.as_f64()), Some(1.5));
        assert_eq!(value("b").and_then(|v| v.as_bool()), Some(true));
        assert_eq!(
            value("s").as_ref().and_then(PropertyValue::as_str),
            Some("x")
        );
        assert_eq!(value("bad"), Some(PropertyValue::Text("seven".into())));
        assert_eq!(value("raw"), Some(PropertyValue::Other(json!([1]))));
        assert_eq!(value("none"), Some(PropertyValue::Other(Value::Null)));
        assert_eq!(value("missing"), None);
        assert_eq!(
            event.snapshots[0].properties[4].value_type.as_deref(),
            Some("id")
        );
    }

    #[test]
    #[should_panic(expected = "no activity with operation \"missing\"")]
    fn a_missing_activity_panics_with_the_tree() {
        Received::new(&[json!({"type": "EVENT", "msg-text": "only"})]).activity("missing");
    }
}
