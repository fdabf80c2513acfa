//! A fully specified jKool event, for what tracing fields cannot say: every
//! keyword of the old Python `logEvent` has a home here.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::item::codes::{CompCode, EventType, Severity};
use crate::item::key;

use crate::item::clock::now_usec;
use crate::item::snapshot::{Property, Snapshot};
use crate::item::value::Value;

/// A jKool event with every field under your control, sent through the
/// layer's queue with [`JKoolHandle::send`](crate::JKoolHandle::send).
///
/// A new event gets a fresh tracking id and the current time; everything
/// else is optional. `source-fqn` and `pid` default to the layer's.
///
/// ```
/// use tracing_jkool::{CompCode, JKoolEvent, Severity, Snapshot};
///
/// let event = JKoolEvent::new("Order Processed Successfully")
///     .corr_id("order-5")
///     .location("Atlanta, Ga")
///     .severity(Severity::Notice)
///     .comp_code(CompCode::Success)
///     .snapshot(Snapshot::new("Payment").category("Order").property("order-amount", 150));
/// let json = serde_json::to_value(&event)?;
/// assert_eq!(json["msg-text"], "Order Processed Successfully");
/// assert_eq!(json["snapshots"][0]["parent-id"], event.id());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct JKoolEvent {
    event_type: EventType,
    tracking_id: String,
    pub(crate) parent_id: Option<String>,
    pub(crate) corrid: Vec<String>,
    pub(crate) source_fqn: Option<String>,
    source_url: Option<String>,
    operation: Option<String>,
    severity: Severity,
    comp_code: Option<CompCode>,
    reason_code: Option<i64>,
    exception: Option<String>,
    location: Option<String>,
    resource: Option<String>,
    user: Option<String>,
    pid: u32,
    tid: Option<u64>,
    time_usec: i64,
    start_time_usec: Option<i64>,
    end_time_usec: Option<i64>,
    elapsed_time_usec: Option<i64>,
    wait_time_usec: Option<i64>,
    msg_text: String,
    msg_tag: Option<String>,
    msg_size: Option<i64>,
    msg_age_usec: Option<i64>,
    encoding: Option<String>,
    charset: Option<String>,
    mime_type: Option<String>,
    properties: Vec<Property>,
    snapshots: Vec<Snapshot>,
}

impl Serialize for JKoolEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(key::TYPE.name, &self.event_type)?;
        map.serialize_entry(key::TRACKING_ID.name, &self.tracking_id)?;
        // Keys without a value are left out.
        macro_rules! some {
            ($($key:ident: $field:ident,)*) => {$(
                if let Some(value) = &self.$field {
                    map.serialize_entry(key::$key.name, value)?;
                }
            )*};
        }
        some!(PARENT_ID: parent_id,);
        if !self.corrid.is_empty() {
            map.serialize_entry(key::CORRID.name, &self.corrid)?;
        }
        some!(SOURCE_FQN: source_fqn, SOURCE_URL: source_url, OPERATION: operation,);
        map.serialize_entry(key::SEVERITY.name, &self.severity)?;
        some!(
            COMP_CODE: comp_code,
            REASON_CODE: reason_code,
            EXCEPTION: exception,
            LOCATION: location,
            RESOURCE: resource,
            USER: user,
        );
        map.serialize_entry(key::PID.name, &self.pid)?;
        some!(TID: tid,);
        map.serialize_entry(key::TIME_USEC.name, &self.time_usec)?;
        some!(
            START_TIME_USEC: start_time_usec,
            END_TIME_USEC: end_time_usec,
            ELAPSED_TIME_USEC: elapsed_time_usec,
            WAIT_TIME_USEC: wait_time_usec,
        );
        map.serialize_entry(key::MSG_TEXT.name, &self.msg_text)?;
        some!(
            MSG_TAG: msg_tag,
            MSG_SIZE: msg_size,
            MSG_AGE_USEC: msg_age_usec,
            ENCODING: encoding,
            CHARSET: charset,
            MIME_TYPE: mime_type,
        );
        if !self.properties.is_empty() {
            map.serialize_entry(key::PROPERTIES.name, &self.properties)?;
        }
        if !self.snapshots.is_empty() {
            map.serialize_entry(key::SNAPSHOTS.name, &self.snapshots)?;
        }
        map.end()
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $t:ty,)*) => {
        $($(#[$doc])* pub fn $name(mut self, value: $t) -> Self {
            self.$name = Some(value.into());
            self
        })*
    };
}

impl JKoolEvent {
    /// An INFO event with this message, a fresh tracking id, the current
    /// time, and this process's id.
    pub fn new(msg_text: impl Into<String>) -> Self {
        JKoolEvent {
            event_type: EventType::Event,
            tracking_id: uuid::Uuid::new_v4().to_string(),
            parent_id: None,
            corrid: Vec::new(),
            source_fqn: None,
            source_url: None,
            operation: None,
            severity: Severity::Info,
            comp_code: None,
            reason_code: None,
            exception: None,
            location: None,
            resource: None,
            user: None,
            pid: std::process::id(),
            tid: Some(crate::item::thread::thread_number()),
            time_usec: now_usec(),
            start_time_usec: None,
            end_time_usec: None,
            elapsed_time_usec: None,
            wait_time_usec: None,
            msg_text: msg_text.into(),
            msg_tag: None,
            msg_size: None,
            msg_age_usec: None,
            encoding: None,
            charset: None,
            mime_type: None,
            properties: Vec::new(),
            snapshots: Vec::new(),
        }
    }

    /// Its message, and every property (its own, then its snapshots'):
    /// what redaction looks at.
    pub(crate) fn redactable(&mut self) -> (&mut String, impl Iterator<Item = &mut Property>) {
        let snapshots = (self.snapshots.iter_mut()).flat_map(|s| s.properties.iter_mut());
        (
            &mut self.msg_text,
            self.properties.iter_mut().chain(snapshots),
        )
    }

    /// This event's tracking id, to join other items to it.
    pub fn id(&self) -> &str {
        &self.tracking_id
    }

    /// Replaces the fresh tracking id (keeping attached snapshots joined).
    pub fn tracking_id(mut self, id: impl Into<String>) -> Self {
        let old = std::mem::replace(&mut self.tracking_id, id.into());
        for snapshot in &mut self.snapshots {
            if snapshot.parent_id.as_deref() == Some(old.as_str()) {
                snapshot.parent_id = Some(self.tracking_id.clone());
            }
        }
        self
    }

    /// Adds a correlator: items sharing one are stitched together.
    pub fn corr_id(mut self, correlator: impl Into<String>) -> Self {
        self.corrid.push(correlator.into());
        self
    }

    /// The event type; default [`EventType::Event`].
    pub fn event_type(mut self, event_type: EventType) -> Self {
        self.event_type = event_type;
        self
    }

    /// The severity; default [`Severity::Info`].
    pub fn severity(mut self, severity: impl Into<Severity>) -> Self {
        self.severity = severity.into();
        self
    }

    /// When the event was reported, in microseconds since the Unix epoch;
    /// default: when [`new`](Self::new) was called.
    pub fn time_usec(mut self, time_usec: i64) -> Self {
        self.time_usec = time_usec;
        self
    }

    /// The process id; default this process.
    pub fn pid(mut self, pid: u32) -> Self {
        self.pid = pid;
        self
    }

    /// The thread id; default the calling thread's number.
    pub fn tid(mut self, tid: u64) -> Self {
        self.tid = Some(tid);
        self
    }

    setters! {
        /// The tracking id of the enclosing activity (the Python
        /// `parent_tracking_id`).
        parent_id: impl Into<String>,
        /// `source-fqn`, such as `APPL=Shop#SERVER=web1`; default the layer's.
        source_fqn: impl Into<String>,
        /// The URL the event came from.
        source_url: impl Into<String>,
        /// The operation's name.
        operation: impl Into<String>,
        /// The completion code.
        comp_code: CompCode,
        /// A numeric reason.
        reason_code: i64,
        /// Failure text.
        exception: impl Into<String>,
        /// A place: geo location, file and line, or anything else.
        location: impl Into<String>,
        /// What the event acted on: a queue, a file, a module.
        resource: impl Into<String>,
        /// The user name.
        user: impl Into<String>,
        /// Start of what the event measures, in microseconds since the epoch.
        start_time_usec: i64,
        /// End of what the event measures, in microseconds since the epoch.
        end_time_usec: i64,
        /// Duration in microseconds.
        elapsed_time_usec: i64,
        /// Time spent waiting, in microseconds (the Python `wait_time`).
        wait_time_usec: i64,
        /// A message tag.
        msg_tag: impl Into<String>,
        /// The message size in bytes.
        msg_size: i64,
        /// The message age in microseconds (the Python `msg_age`).
        msg_age_usec: i64,
        /// The message encoding.
        encoding: impl Into<String>,
        /// The message character set.
        charset: impl Into<String>,
        /// The message MIME type.
        mime_type: impl Into<String>,
    }

    /// Adds a property to the event itself.
    pub fn property(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.properties.push(Property::new(name, value));
        self
    }

    /// Adds a property made with [`Property::new`], e.g. one with a unit.
    pub fn with(mut self, property: Property) -> Self {
        self.properties.push(property);
        self
    }

    /// Attaches a snapshot; its `parent-id` becomes this event's tracking
    /// id unless it already has one.
    pub fn snapshot(mut self, mut snapshot: Snapshot) -> Self {
        if snapshot.parent_id.is_none() {
            snapshot.parent_id = Some(self.tracking_id.clone());
        }
        self.snapshots.push(snapshot);
        self
    }
}
