//! What the application sends by hand, beside what the layer captures:
//! fully specified jKool events, and items already in JSON.

use tracing::Dispatch;

use crate::item::model::{Item, Kind};
use crate::spans::access::nearest;
use crate::{Error, JKoolEvent, JKoolHandle};

/// Where a layer's spans live: the address of its subscriber inside the
/// dispatcher, and how to find that subscriber in a dispatcher.
#[derive(Debug)]
pub(crate) struct Home {
    pub(crate) subscriber: usize,
    pub(crate) find: fn(&Dispatch) -> Option<usize>,
}

impl Home {
    /// Whether `dispatch` is the layer's own dispatcher.
    fn is(&self, dispatch: &Dispatch) -> bool {
        (self.find)(dispatch) == Some(self.subscriber)
    }
}

impl JKoolHandle {
    /// Sends a fully specified jKool event through the same queue as the
    /// layer's items: it never waits, and a full queue drops and counts it.
    ///
    /// Sent inside a span that this handle's layer tracks, the event gets
    /// that span's activity as its `parent-id` and the span's correlators
    /// (its trace id first) as its `corrid`, unless it set them itself
    /// ([`JKoolEvent::parent_id`], [`JKoolEvent::corr_id`]). The current
    /// span is the calling thread's, in its current dispatcher; in a
    /// dispatcher that is not the layer's own, the event gets no parent
    /// from it.
    ///
    /// ```no_run
    /// use tracing_jkool::{JKoolEvent, JKoolLayer, Snapshot};
    ///
    /// let jkool = JKoolLayer::new("my-access-token").handle();
    /// jkool.send(
    ///     JKoolEvent::new("Order Processed Successfully")
    ///         .corr_id("order-5")
    ///         .snapshot(Snapshot::new("Payment").category("Order").property("order-amount", 150)),
    /// );
    /// ```
    pub fn send(&self, mut event: JKoolEvent) {
        crate::handle::panics::went_on();
        if event.parent_id.is_none() || event.corrid.is_empty() {
            self.fill_from_current_span(&mut event);
        }
        self.enqueue(Item::JKoolEvent(Box::new(event)));
    }

    /// The current span's tracking id and correlators, where the event has
    /// none of its own.
    pub(crate) fn fill_from_current_span(&self, event: &mut JKoolEvent) {
        let Some(open) = self.open_spans() else {
            return;
        };
        let span = tracing::Span::current();
        // Span ids are a subscriber's own: in another subscriber's span,
        // this layer's table would answer for an unrelated span.
        let home = self.home().get();
        let at_home = span.with_subscriber(|(_, dispatch)| home.is_none_or(|h| h.is(dispatch)));
        if at_home != Some(true) {
            return;
        }
        let found = nearest(&span, Some(open), |data| {
            let mut buf = uuid::Uuid::encode_buffer();
            let parent = data.tracking_id.as_str(&mut buf).to_owned();
            (parent, data.trace_id, data.corrids.clone())
        });
        let Some((parent, trace_id, corrids)) = found else {
            return;
        };
        if event.parent_id.is_none() {
            event.parent_id = Some(parent);
        }
        if event.corrid.is_empty() {
            event.corrid.push(trace_id.to_string());
            event
                .corrid
                .extend(corrids.iter().flat_map(|c| c.iter().cloned()));
        }
    }

    /// Sends one item that is already jKool JSON, such as a line written by
    /// the file sink (`url("file:///...")`), through the same queue and
    /// with the same retries. An `ACTIVITY` goes where activities go;
    /// anything else where events go. It is sent as it is: redaction
    /// ([`Builder::redact_fields`](crate::Builder::redact_fields)) does
    /// not look into it.
    ///
    /// # Errors
    /// [`Error::InvalidItem`] when `json` is not one JSON object with a
    /// string `type`; nothing is queued then.
    ///
    /// ```no_run
    /// let jkool = tracing_jkool::JKoolLayer::new("my-access-token").handle();
    /// jkool.send_json(r#"{"type":"EVENT","tracking-id":"1","time-usec":1,"msg-text":"replayed"}"#)?;
    /// # Ok::<(), tracing_jkool::Error>(())
    /// ```
    pub fn send_json(&self, json: &str) -> Result<(), Error> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| Error::InvalidItem(e.to_string()))?;
        let kind = match value.get("type").and_then(serde_json::Value::as_str) {
            Some("ACTIVITY") => Kind::Activity,
            Some(_) => Kind::Event,
            None => return Err(Error::InvalidItem("no string \"type\"".into())),
        };
        // Re-written compactly: one line, whatever the input's layout.
        self.enqueue(Item::Raw {
            kind,
            json: value.to_string().into_boxed_str(),
        });
        Ok(())
    }
}
