//! jKool items (activities and events with their snapshot and properties).
//!
//! The layer fills these structs on the application's thread with owned,
//! cheap-to-move data; everything that costs (UUID text, JSON) happens on
//! the delivery thread, in `wire`.

use std::sync::Arc;

use serde::ser::{Serialize, Serializer};
use tracing::Metadata;
use uuid::Uuid;

use crate::item::event::JKoolEvent;
use crate::item::fields::Fields;
use crate::item::trace_id::{hex32, TraceId};

/// A jKool tracking id: a fresh UUID, or one the application set with
/// `jkool.tracking_id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum TrackingId {
    Uuid(Uuid),
    Custom(Arc<str>),
}

impl TrackingId {
    pub(crate) fn new() -> Self {
        TrackingId::Uuid(Uuid::new_v4())
    }

    /// The id as text, written into `buf` when it is a UUID.
    pub(crate) fn as_str<'a>(&'a self, buf: &'a mut [u8; 45]) -> &'a str {
        match self {
            TrackingId::Uuid(id) => id.hyphenated().encode_lower(buf),
            TrackingId::Custom(id) => id,
        }
    }
}

/// A UUID as hyphenated lowercase text, as the uuid crate writes it.
pub(crate) fn uuid_text(id: &Uuid) -> [u8; 36] {
    let hex = hex32(*id.as_bytes());
    let mut text = [b'-'; 36];
    text[..8].copy_from_slice(&hex[..8]);
    text[9..13].copy_from_slice(&hex[8..12]);
    text[14..18].copy_from_slice(&hex[12..16]);
    text[19..23].copy_from_slice(&hex[16..20]);
    text[24..].copy_from_slice(&hex[20..]);
    text
}

impl Serialize for TrackingId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str(&mut Uuid::encode_buffer()))
    }
}

/// Where a record of the `log` crate came from: tracing-log gives it
/// metadata that lives only as long as the event.
#[derive(Debug)]
pub(crate) struct LogOrigin {
    pub target: String,
    pub file: Option<String>,
    pub line: Option<u32>,
}

/// What every item carries, whatever its kind.
#[derive(Debug)]
pub(crate) struct Common {
    pub meta: &'static Metadata<'static>,
    /// Set for records of the `log` crate, whose `meta` is tracing-log's.
    pub log: Option<Box<LogOrigin>>,
    /// `None` for events: their id is made on the background task.
    pub tracking_id: Option<TrackingId>,
    pub parent_id: Option<TrackingId>,
    /// The trace the item belongs to: the first correlator in `corrid`,
    /// as hex written on the delivery thread.
    pub trace_id: Option<TraceId>,
    /// The sampled flag of the caller the trace came from, if it came
    /// from another service: it decides for the trace.
    pub remote_sampled: Option<bool>,
    /// Correlators inherited from the enclosing spans, outermost first.
    pub corrids: Option<Arc<[String]>>,
    pub time_usec: i64,
    pub tid: u64,
    pub fields: Fields,
}

/// A tracing event, bound for jKool as an EVENT.
#[derive(Debug)]
pub(crate) struct EventRecord {
    pub common: Common,
}

/// A closed span, bound for jKool as an ACTIVITY.
#[derive(Debug)]
pub(crate) struct ActivityRecord {
    pub common: Common,
    pub start_usec: i64,
    /// The text of the first ERROR event, or event with an `error` field,
    /// inside: it failed the activity.
    pub failure: Option<Box<str>>,
    /// Time inside the span (entered), in microseconds.
    pub busy_usec: u64,
    /// Time outside it between creation and close, in microseconds.
    pub idle_usec: u64,
}

/// One item on its way to jKool.
#[derive(Debug)]
pub(crate) enum Item {
    Event(EventRecord),
    Activity(ActivityRecord),
    /// A fully specified event from [`JKoolHandle::send`](crate::JKoolHandle::send).
    JKoolEvent(Box<JKoolEvent>),
    /// An item already in JSON, such as a line of a file sink being replayed.
    Raw {
        kind: Kind,
        json: Box<str>,
    },
}

/// The two kinds of item jKool takes on separate endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Event,
    Activity,
}

impl Item {
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Item::Event(_) | Item::JKoolEvent(_) => Kind::Event,
            Item::Activity(_) => Kind::Activity,
            Item::Raw { kind, .. } => *kind,
        }
    }

    /// What is left where an item was taken from: nothing to send.
    pub(crate) fn taken() -> Item {
        Item::Raw {
            kind: Kind::Event,
            json: Box::default(),
        }
    }

    /// Fills in what a fully specified event left to the layer: the
    /// pipeline's `source_fqn`.
    pub(crate) fn fill_defaults(&mut self, source_fqn: &str) {
        if let Item::JKoolEvent(event) = self {
            event
                .source_fqn
                .get_or_insert_with(|| source_fqn.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_text_is_what_the_uuid_crate_writes() {
        let ids = [
            Uuid::nil(),
            Uuid::max(),
            Uuid::from_u128(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210),
        ];
        for id in ids.into_iter().chain((0..1000).map(|_| Uuid::new_v4())) {
            assert_eq!(uuid_text(&id), id.to_string().as_bytes());
        }
    }

    #[test]
    fn tracking_ids_are_fresh_uuids_or_the_custom_text() {
        let a = serde_json::to_value(TrackingId::new()).unwrap();
        let b = serde_json::to_value(TrackingId::new()).unwrap();
        assert_ne!(a, b);
        assert!(Uuid::parse_str(a.as_str().unwrap()).is_ok());
        let custom = TrackingId::Custom("order-5".into());
        assert_eq!(serde_json::to_value(custom).unwrap(), "order-5");
    }
}
