//! What `JKoolHandle::set_level`, `set_sampler` and
//! `set_max_events_per_callsite` change while the application runs, and
//! what reads it: the layer's level filter and the storm limits on the
//! application's threads (atomic loads), the sampler on the delivery
//! thread. Below both the layer and the handle, so that neither depends on
//! the other for it.

pub(crate) mod storm;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use tracing::dispatcher::WeakDispatch;
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::Metadata;
use tracing_subscriber::layer::{Context, Filter};

use crate::item::sampler::Sampler;
use crate::item::trace_id::TraceId;
use storm::Storms;

/// The settings a handle changes at run time.
#[derive(Debug)]
pub(crate) struct Controls {
    level: AtomicU8,
    /// The dispatcher the layer is in, once it joined one.
    dispatch: OnceLock<WeakDispatch>,
    /// The storm limits, made when first set (a table of 4,096 slots).
    storms: OnceLock<Storms>,
    /// The last change of sampler, until the delivery thread takes it.
    change: Mutex<Option<SamplerChange>>,
    /// The sampler's ratio as `f64` bits, for the flag `traceparent`
    /// passes on; [`NO_SAMPLER`] without one.
    ratio: AtomicU64,
    /// Bumped by each `set_sampler`: the delivery thread takes the new
    /// sampler when it sees a number it has not.
    sampler_changes: AtomicU64,
}

/// Not a ratio `set_sampler` lets through (a NaN).
const NO_SAMPLER: u64 = u64::MAX;

impl Controls {
    pub(crate) fn new(level: LevelFilter, sampler: Option<Sampler>) -> Self {
        Controls {
            level: AtomicU8::new(level_number(level)),
            dispatch: OnceLock::new(),
            storms: OnceLock::new(),
            ratio: AtomicU64::new(ratio_bits(sampler)),
            change: Mutex::new(None),
            sampler_changes: AtomicU64::new(0),
        }
    }

    /// The layer's level now.
    pub(crate) fn level(&self) -> LevelFilter {
        match self.level.load(Ordering::Relaxed) {
            0 => LevelFilter::OFF,
            1 => LevelFilter::ERROR,
            2 => LevelFilter::WARN,
            3 => LevelFilter::INFO,
            4 => LevelFilter::DEBUG,
            _ => LevelFilter::TRACE,
        }
    }

    /// Whether the layer's level admits `metadata`.
    #[inline]
    pub(crate) fn admits(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= &self.level()
    }

    /// The storm limits, once set, while they limit anything.
    #[inline]
    pub(crate) fn storms(&self) -> Option<&Storms> {
        self.storms.get().filter(|storms| storms.limited())
    }

    /// Sets the storm limits; `true` when this made the table, whose
    /// summaries must then be started.
    pub(crate) fn set_storms(&self, limit: Option<(u32, std::time::Duration)>) -> bool {
        let mut made = false;
        let storms = self.storms.get_or_init(|| {
            made = true;
            Storms::new(0, std::time::Duration::from_secs(1))
        });
        storms.set(limit);
        made
    }

    /// The storm table, made or not, for its summaries.
    pub(crate) fn storm_table(&self) -> Option<&Storms> {
        self.storms.get()
    }

    /// Remembers the dispatcher the layer joined.
    pub(crate) fn joined(&self, dispatch: &tracing::Dispatch) {
        let _ = self.dispatch.set(dispatch.downgrade());
    }

    /// Sets the level; tracing's cached interest of every callsite is
    /// asked again, so that callsites already seen follow it.
    pub(crate) fn set_level(&self, level: LevelFilter) {
        self.level.store(level_number(level), Ordering::Relaxed);
        // With one dispatcher, tracing asks the calling thread's default
        // only: on a thread outside a scoped (`with_default`) dispatcher
        // that would not be the layer's.
        match self.dispatch.get().and_then(WeakDispatch::upgrade) {
            Some(dispatch) => tracing::dispatcher::with_default(&dispatch, || {
                tracing::callsite::rebuild_interest_cache();
            }),
            None => tracing::callsite::rebuild_interest_cache(),
        }
    }

    /// Changes the sampler, for the delivery thread to take up (the last
    /// change wins when several come before it looks).
    pub(crate) fn set_sampler(&self, change: SamplerChange) {
        let ratio = ratio_bits(Some(change.sampler));
        *self.change.lock().unwrap_or_else(PoisonError::into_inner) = Some(change);
        self.ratio.store(ratio, Ordering::Relaxed);
        // Released after the change is in place: the delivery thread that
        // sees the new number finds it.
        self.sampler_changes.fetch_add(1, Ordering::Release);
    }

    /// The change of sampler made since change number `seen` (which is
    /// then updated), if there is one; one atomic load when there is not.
    fn sampler_changed(&self, seen: &mut u64) -> Option<SamplerChange> {
        let now = self.sampler_changes.load(Ordering::Acquire);
        if now == *seen {
            return None;
        }
        *seen = now;
        self.change
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Whether this layer's sampler keeps trace `id` (by its ratio), or
    /// `None` without a sampler.
    pub(crate) fn samples(&self, id: TraceId) -> Option<bool> {
        let bits = self.ratio.load(Ordering::Relaxed);
        (bits != NO_SAMPLER).then(|| Sampler::ratio(f64::from_bits(bits)).samples(id))
    }
}

/// The delivery thread's view of `set_sampler`: the change to take up
/// once the queue reaches where it begins.
#[derive(Debug)]
pub(crate) struct SamplerWatch {
    controls: std::sync::Arc<Controls>,
    /// The number of the last change taken...
    seen: u64,
    /// ...and a change taken, until the queue reaches where it begins.
    change: Option<SamplerChange>,
}

impl SamplerWatch {
    pub(crate) fn new(controls: std::sync::Arc<Controls>) -> Self {
        SamplerWatch {
            controls,
            seen: 0,
            change: None,
        }
    }

    /// The change that begins at or before the item at `seq` in the
    /// queue, once; one atomic load when there is none.
    pub(crate) fn due(&mut self, seq: u64) -> Option<SamplerChange> {
        if self.change.is_none() {
            self.change = self.controls.sampler_changed(&mut self.seen);
        }
        self.change.take_if(|c| seq >= c.from)
    }
}

/// A new sampler, and where in the queue it begins.
#[derive(Debug)]
pub(crate) struct SamplerChange {
    pub(crate) sampler: Sampler,
    /// The place in the queue of the first item it decides: what was
    /// queued before is decided as before.
    pub(crate) from: u64,
    /// The traces under way at the change (a span open): the sampler
    /// before decides them to the end, so that none arrives in part.
    pub(crate) under_way: HashSet<TraceId>,
}

fn level_number(level: LevelFilter) -> u8 {
    match level.into_level() {
        None => 0,
        Some(tracing::Level::ERROR) => 1,
        Some(tracing::Level::WARN) => 2,
        Some(tracing::Level::INFO) => 3,
        Some(tracing::Level::DEBUG) => 4,
        Some(tracing::Level::TRACE) => 5,
    }
}

fn ratio_bits(sampler: Option<Sampler>) -> u64 {
    sampler.map_or(NO_SAMPLER, |s| s.fraction().to_bits())
}

/// The layer's per-layer filter: its level, as it is now. Like
/// `LevelFilter`'s, its interest is decided per callsite (always or
/// never) and asked again after each change.
#[derive(Debug, Clone)]
pub(crate) struct LiveLevel(pub(crate) std::sync::Arc<Controls>);

impl<S> Filter<S> for LiveLevel {
    fn enabled(&self, metadata: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        self.0.admits(metadata)
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.0.admits(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.0.level())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sampler_change_begins_at_its_place_in_the_queue_and_traceparent_follows_at_once() {
        let controls = std::sync::Arc::new(Controls::new(LevelFilter::INFO, None));
        assert_eq!(controls.samples(TraceId::ONE), None, "no sampler");
        let mut watch = SamplerWatch::new(std::sync::Arc::clone(&controls));
        assert!(watch.due(0).is_none(), "no change yet");
        controls.set_sampler(SamplerChange {
            sampler: Sampler::ratio(0.0),
            from: 5,
            under_way: HashSet::new(),
        });
        // The flag `traceparent` passes on follows at once...
        assert_eq!(controls.samples(TraceId::ONE), Some(false));
        // ...the delivery thread only from the change's place on: items
        // queued before it are decided as before.
        assert!(watch.due(4).is_none());
        let change = watch.due(5).expect("due at its place");
        assert_eq!(change.sampler, Sampler::ratio(0.0));
        assert!(watch.due(6).is_none(), "taken once");
    }
}
