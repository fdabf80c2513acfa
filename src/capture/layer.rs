//! The public layer: the callbacks of `callbacks.rs` behind a per-layer level
//! filter, so that levels below the configured one are decided at the
//! callsite without hiding anything from the application's other layers.

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};
use tracing_subscriber::filter::{Filtered, LevelFilter};

use crate::control::{Controls, LiveLevel};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::capture::callbacks::Capture;
use crate::handle::JKoolHandle;
use crate::spans::access::{walk, Access};

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
/// Several `JKoolLayer`s may share one subscriber (say one to jKool and one
/// to a `file://` URL): each keeps its own span data and sends every item.
/// The layer also works inside `Option`, boxed in a `Vec`, after
/// `and_then`, and inside `tracing_subscriber::reload::Layer`, including a
/// layer swapped in by `reload`: where the registry cannot see the layer's
/// filter, the layer checks its level itself in its callbacks. (Under
/// `and_then`, as for any `with_filter` layer in tracing-subscriber 0.3,
/// the layer before it sees only what passes the level.)
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
    /// The level, which the handle may change.
    controls: Arc<Controls>,
    handle: JKoolHandle,
    /// The callbacks until the layer joins a subscriber...
    capture: Option<Capture>,
    /// ...then `Filtered<Capture, LiveLevel, S>` for that subscriber
    /// type `S`, which only `on_layer` learns.
    filtered: Option<Box<dyn Any + Send + Sync>>,
    /// Set when the dispatcher cannot see this layer (it sits behind a
    /// wrapper such as `reload::Layer` that hides it from downcasts): the
    /// registry's per-layer filter bookkeeping would go wrong, so the
    /// filtered capture's inner layer is called directly instead.
    hidden: AtomicBool,
    /// What `JKoolSpanExt` and `JKoolHandle::send` find through the
    /// dispatcher.
    access: Access,
}

/// Where a callback goes.
enum Route<'a, S> {
    /// The per-layer filtered capture made in `on_layer`.
    Filtered(&'a Filtered<Capture, LiveLevel, S>),
    /// The capture itself, with the level checked inline.
    Direct(&'a Capture),
}

impl std::fmt::Debug for JKoolLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JKoolLayer")
            .field("level", &self.controls.level())
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

impl JKoolLayer {
    /// The handle to flush, shut down and read statistics; `Clone`, and
    /// usable after the layer moved into a subscriber.
    pub fn handle(&self) -> JKoolHandle {
        self.handle.clone()
    }

    pub(crate) fn from_parts(
        controls: Arc<Controls>,
        capture: Capture,
        handle: JKoolHandle,
    ) -> Self {
        JKoolLayer {
            access: Access {
                open: capture.open_spans(),
                walk: OnceLock::new(),
                controls: Arc::clone(&controls),
            },
            controls,
            handle,
            capture: Some(capture),
            filtered: None,
            hidden: AtomicBool::new(false),
        }
    }

    /// Whether the layer's level admits `metadata`.
    fn admits(&self, metadata: &Metadata<'_>) -> bool {
        self.controls.admits(metadata)
    }

    fn filtered<S>(&self) -> Option<&Filtered<Capture, LiveLevel, S>>
    where
        S: Subscriber + for<'a> LookupSpan<'a> + 'static,
    {
        self.filtered.as_deref()?.downcast_ref()
    }

    /// The filtered capture, or the capture itself when `on_layer` never
    /// ran or the dispatcher cannot see this layer.
    fn route<S>(&self) -> Option<Route<'_, S>>
    where
        S: Subscriber + for<'a> LookupSpan<'a> + 'static,
    {
        if let Some(capture) = &self.capture {
            return Some(Route::Direct(capture));
        }
        let filtered = self.filtered::<S>()?;
        Some(if self.hidden.load(Ordering::Relaxed) {
            Route::Direct(filtered.inner())
        } else {
            Route::Filtered(filtered)
        })
    }
}

/// Every callback goes to the filtered capture made in `on_layer`. A layer
/// that never saw `on_layer` (a wrapper that does not forward it, or a
/// layer swapped in by `reload`), or that the dispatcher cannot see (behind
/// `reload::Layer`, which hides it from the registry's per-layer filter
/// bookkeeping), calls the capture directly instead, with its level checked
/// in the span and event callbacks: it hides nothing from other layers and
/// still exports.
impl<S> Layer<S> for JKoolLayer
where
    S: Subscriber + for<'a> LookupSpan<'a> + 'static,
{
    fn on_layer(&mut self, subscriber: &mut S) {
        let _ = self.access.walk.set(walk::<S>);
        if let Some(capture) = self.capture.take() {
            let mut filtered = capture.with_filter(LiveLevel(Arc::clone(&self.controls)));
            filtered.on_layer(subscriber);
            self.filtered = Some(Box::new(filtered));
        }
    }

    /// Runs before the dispatcher asks for any callsite's interest: the
    /// moment to learn whether it can see this layer at all.
    fn on_register_dispatch(&self, dispatch: &Dispatch) {
        self.controls.joined(dispatch);
        let _ = self.access.walk.set(walk::<S>);
        let find = |dispatch: &Dispatch| {
            let subscriber = dispatch.downcast_ref::<S>()?;
            Some(std::ptr::from_ref(subscriber) as usize)
        };
        if let Some(subscriber) = find(dispatch) {
            let home = crate::handle::send::Home { subscriber, find };
            let _ = self.handle().home().set(home);
        }
        if let Some(f) = self.filtered::<S>() {
            if dispatch.downcast_ref::<JKoolLayer>().is_none() {
                self.hidden.store(true, Ordering::Relaxed);
            }
            f.on_register_dispatch(dispatch);
        }
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        match self.route::<S>() {
            Some(Route::Filtered(f)) => f.register_callsite(metadata),
            _ => Interest::always(),
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        match self.route::<S>() {
            Some(Route::Filtered(f)) => f.enabled(metadata, ctx),
            _ => true,
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        match self.route::<S>()? {
            Route::Filtered(f) => f.max_level_hint(),
            // An unfiltered layer's hint caps every layer: give none.
            Route::Direct(_) => None,
        }
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        match self.route::<S>() {
            Some(Route::Filtered(f)) => f.event_enabled(event, ctx),
            _ => true,
        }
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        match self.route::<S>() {
            Some(Route::Filtered(f)) => f.on_new_span(attrs, id, ctx),
            Some(Route::Direct(c)) if self.admits(attrs.metadata()) => {
                c.on_new_span(attrs, id, ctx);
            }
            _ => {}
        }
    }

    // The other span callbacks need no level check when direct: they find
    // nothing for a span the layer did not track.

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        match self.route::<S>() {
            Some(Route::Filtered(f)) => f.on_record(id, values, ctx),
            Some(Route::Direct(c)) => c.on_record(id, values, ctx),
            None => {}
        }
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: Context<'_, S>) {
        match self.route::<S>() {
            Some(Route::Filtered(f)) => f.on_follows_from(id, follows, ctx),
            Some(Route::Direct(c)) => c.on_follows_from(id, follows, ctx),
            None => {}
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        match self.route::<S>() {
            Some(Route::Filtered(f)) => f.on_event(event, ctx),
            Some(Route::Direct(c)) if self.admits(event.metadata()) => c.on_event(event, ctx),
            _ => {}
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        match self.route::<S>() {
            Some(Route::Filtered(f)) => f.on_enter(id, ctx),
            Some(Route::Direct(c)) => c.on_enter(id, ctx),
            None => {}
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        match self.route::<S>() {
            Some(Route::Filtered(f)) => f.on_exit(id, ctx),
            Some(Route::Direct(c)) => c.on_exit(id, ctx),
            None => {}
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        match self.route::<S>() {
            Some(Route::Filtered(f)) => f.on_close(id, ctx),
            Some(Route::Direct(c)) => c.on_close(id, ctx),
            None => {}
        }
    }

    fn on_id_change(&self, old: &Id, new: &Id, ctx: Context<'_, S>) {
        if let Some(Route::Filtered(f)) = self.route::<S>() {
            f.on_id_change(old, new, ctx);
        }
    }

    /// The registry finds per-layer filters by downcasting: it must find
    /// the inner `Filtered`'s.
    unsafe fn downcast_raw(&self, id: std::any::TypeId) -> Option<*const ()> {
        if id == std::any::TypeId::of::<Self>() {
            return Some(std::ptr::from_ref(self).cast());
        }
        // `JKoolSpanExt` and `JKoolHandle::send` reach the open spans.
        if id == std::any::TypeId::of::<Access>() {
            return Some(std::ptr::from_ref(&self.access).cast());
        }
        match self.route::<S>()? {
            // SAFETY: forwarded to the inner layer, whose own contract holds.
            Route::Filtered(f) => unsafe { f.downcast_raw(id) },
            Route::Direct(_) => None,
        }
    }
}
