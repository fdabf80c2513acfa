//! The public layer: the callbacks of `capture.rs` behind a per-layer level
//! filter, so that levels below the configured one are decided at the
//! callsite without hiding anything from the application's other layers.

use std::any::Any;

use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};
use tracing_subscriber::filter::{Filtered, LevelFilter};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::builder::Builder;
use crate::capture::Capture;
use crate::handle::JKoolHandle;

/// A [`Layer`] that streams spans and events to jKool.
///
/// Spans become jKool activities (sent when the span closes), events become
/// jKool events, and fields become snapshot properties. Items travel through
/// a bounded queue to a background thread that batches and POSTs them; the
/// application's thread never waits on the network.
///
/// The layer's level works like a per-layer filter (`with_filter`): spans
/// and events below it cost almost nothing, decided once per callsite, and
/// other layers still see them.
///
/// ```no_run
/// use std::time::Duration;
/// use tracing_subscriber::prelude::*;
///
/// let layer = tracing_jkool::JKoolLayer::new("my-access-token");
/// let jkool = layer.handle();
/// tracing_subscriber::registry().with(layer).init();
///
/// tracing::info!(order_no = 5, amount = 12.5, "order processed");
///
/// jkool.shutdown(Duration::from_secs(5)).ok();
/// ```
pub struct JKoolLayer {
    level: LevelFilter,
    handle: JKoolHandle,
    /// The callbacks until the layer joins a subscriber...
    capture: Option<Capture>,
    /// ...then `Filtered<Capture, LevelFilter, S>` for that subscriber
    /// type `S`, which only `on_layer` learns.
    filtered: Option<Box<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for JKoolLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JKoolLayer")
            .field("level", &self.level)
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

impl JKoolLayer {
    /// A layer with default settings that sends to `JKOOL_URL` when that
    /// variable is set, else to jKool's streaming endpoint.
    ///
    /// # Panics
    /// When the token is empty or `JKOOL_URL` is not a usable URL; the
    /// message says which. Use [`JKoolLayer::builder`] to get a `Result`.
    pub fn new(token: impl Into<String>) -> Self {
        let mut builder = Self::builder(token);
        if let Ok(url) = std::env::var("JKOOL_URL") {
            builder = builder.url(url);
        }
        builder
            .build()
            .unwrap_or_else(|err| panic!("tracing-jkool: {err}"))
    }

    /// A layer configured from environment variables: `JKOOL_TOKEN` is
    /// required; see [`Builder::from_env`] for the others.
    ///
    /// # Errors
    /// [`Error::MissingEnv`] without `JKOOL_TOKEN`; otherwise as
    /// [`Builder::from_env`] and [`Builder::build`].
    ///
    /// [`Error::MissingEnv`]: crate::Error::MissingEnv
    pub fn from_env() -> Result<Self, crate::Error> {
        if std::env::var_os("JKOOL_TOKEN").is_none() {
            return Err(crate::Error::MissingEnv("JKOOL_TOKEN"));
        }
        Self::builder("").from_env()?.build()
    }

    /// A [`Builder`] for every setting, checked by [`Builder::build`].
    pub fn builder(token: impl Into<String>) -> Builder {
        Builder::new(token.into())
    }

    /// The handle to flush, shut down and read statistics; `Clone`, and
    /// usable after the layer moved into a subscriber.
    pub fn handle(&self) -> JKoolHandle {
        self.handle.clone()
    }

    pub(crate) fn from_parts(level: LevelFilter, capture: Capture, handle: JKoolHandle) -> Self {
        JKoolLayer {
            level,
            handle,
            capture: Some(capture),
            filtered: None,
        }
    }

    /// The capture to call directly, with the level checked inline, when
    /// `on_layer` never ran (as after `reload::Handle::reload`).
    fn direct(&self) -> Option<&Capture> {
        self.capture.as_ref()
    }

    /// Whether the layer's level admits `metadata`.
    fn admits(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= &self.level
    }

    fn filtered<S>(&self) -> Option<&Filtered<Capture, LevelFilter, S>>
    where
        S: Subscriber + for<'a> LookupSpan<'a> + 'static,
    {
        self.filtered.as_deref()?.downcast_ref()
    }
}

/// Every callback goes to the filtered capture made in `on_layer`. A layer
/// that never saw `on_layer` (a wrapper that does not forward it, or a
/// layer swapped in by `reload`) calls the capture directly instead, with
/// its level checked in the span and event callbacks: it hides nothing from
/// other layers and still exports.
impl<S> Layer<S> for JKoolLayer
where
    S: Subscriber + for<'a> LookupSpan<'a> + 'static,
{
    fn on_layer(&mut self, subscriber: &mut S) {
        if let Some(capture) = self.capture.take() {
            let mut filtered = capture.with_filter(self.level);
            filtered.on_layer(subscriber);
            self.filtered = Some(Box::new(filtered));
        }
    }

    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        if let Some(f) = self.filtered::<S>() {
            f.on_register_dispatch(subscriber);
        }
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        match self.filtered::<S>() {
            Some(f) => f.register_callsite(metadata),
            None => Interest::always(),
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.filtered::<S>()
            .is_none_or(|f| f.enabled(metadata, ctx))
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        match self.filtered::<S>() {
            Some(f) => f.max_level_hint(),
            // Unfiltered, the layer still wants nothing below its level.
            None => self.direct().map(|_| self.level),
        }
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        self.filtered::<S>()
            .is_none_or(|f| f.event_enabled(event, ctx))
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(f) = self.filtered::<S>() {
            f.on_new_span(attrs, id, ctx);
        } else if let Some(c) = self.direct() {
            if self.admits(attrs.metadata()) {
                c.on_new_span(attrs, id, ctx);
            }
        }
    }

    // The other span callbacks need no level check when direct: they find
    // nothing for a span the layer did not track.

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(f) = self.filtered::<S>() {
            f.on_record(id, values, ctx);
        } else if let Some(c) = self.direct() {
            c.on_record(id, values, ctx);
        }
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: Context<'_, S>) {
        if let Some(f) = self.filtered::<S>() {
            f.on_follows_from(id, follows, ctx);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if let Some(f) = self.filtered::<S>() {
            f.on_event(event, ctx);
        } else if let Some(c) = self.direct() {
            if self.admits(event.metadata()) {
                c.on_event(event, ctx);
            }
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(f) = self.filtered::<S>() {
            f.on_enter(id, ctx);
        } else if let Some(c) = self.direct() {
            c.on_enter(id, ctx);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(f) = self.filtered::<S>() {
            f.on_exit(id, ctx);
        } else if let Some(c) = self.direct() {
            c.on_exit(id, ctx);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(f) = self.filtered::<S>() {
            f.on_close(id, ctx);
        } else if let Some(c) = self.direct() {
            c.on_close(id, ctx);
        }
    }

    fn on_id_change(&self, old: &Id, new: &Id, ctx: Context<'_, S>) {
        if let Some(f) = self.filtered::<S>() {
            f.on_id_change(old, new, ctx);
        }
    }

    /// The registry finds per-layer filters by downcasting: it must find
    /// the inner `Filtered`'s.
    unsafe fn downcast_raw(&self, id: std::any::TypeId) -> Option<*const ()> {
        if id == std::any::TypeId::of::<Self>() {
            return Some(std::ptr::from_ref(self).cast());
        }
        // SAFETY: forwarded to the inner layer, whose own contract holds.
        unsafe { self.filtered::<S>()?.downcast_raw(id) }
    }
}
