//! [`Received`]: typed views of the received items, for a user's own
//! integration tests.

use std::fmt;

use serde_json::Value;

use super::tree::line::text;
use super::tree::{self, render_tree, Forest};

mod items;

pub use items::{Activity, Event, Property, PropertyValue, Snapshot};

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

#[cfg(test)]
mod tests;
