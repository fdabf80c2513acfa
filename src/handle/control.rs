//! What the handle changes while the application runs: the layer's level,
//! its sampler and its storm limits.

use std::time::Duration;

use tracing::level_filters::LevelFilter;

use crate::control::{storm, SamplerChange};
use crate::item::clock::now_usec;
use crate::{Error, JKoolHandle, Sampler};

impl JKoolHandle {
    /// Changes the layer's level, for spans and events from now on, also
    /// for callsites already seen (tracing's interest cache is rebuilt, as
    /// `reload` does) and with the layer under `with_filter`; from any
    /// thread. A span already open stays as it is. The emitting threads
    /// take no lock for it: the level is one atomic load.
    ///
    /// An incident wants DEBUG for a while, then back:
    ///
    /// ```no_run
    /// use tracing::level_filters::LevelFilter;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let layer = tracing_jkool::JKoolLayer::new("my-access-token");
    /// let jkool = layer.handle();
    /// tracing_subscriber::registry().with(layer).init();
    ///
    /// jkool.set_level(LevelFilter::DEBUG).expect("running");
    /// tracing::debug!("now sent");
    /// jkool.set_level(LevelFilter::INFO).expect("running");
    /// ```
    ///
    /// After `shutdown`, it changes nothing and returns [`Error::Closed`].
    pub fn set_level(&self, level: impl Into<LevelFilter>) -> Result<(), Error> {
        self.open_for("level")?;
        self.inner.controls.set_level(level.into());
        Ok(())
    }

    /// The layer's level now.
    ///
    /// ```
    /// let layer = tracing_jkool::JKoolLayer::new("my-access-token");
    /// assert_eq!(layer.handle().level(), tracing::level_filters::LevelFilter::INFO);
    /// ```
    pub fn level(&self) -> LevelFilter {
        self.inner.controls.level()
    }

    /// Changes which traces are kept ([`Sampler`]), also when the layer
    /// was built without one. Items queued before the call are decided as
    /// before, and so is every trace under way at the call (a span open),
    /// to its end: no trace arrives in part. Traces begun after the call
    /// follow the new sampler. The flag `traceparent` passes on follows it
    /// at once. To stop sampling, set `Sampler::ratio(1.0)`.
    ///
    /// ```no_run
    /// use tracing_jkool::Sampler;
    ///
    /// let jkool = tracing_jkool::JKoolLayer::new("my-access-token").handle();
    /// if let Err(err) = jkool.set_sampler(Sampler::ratio(0.1)) {
    ///     eprintln!("sampler unchanged: {err:#}");
    /// }
    /// ```
    ///
    /// A ratio outside 0 to 1 is refused with [`Error::InvalidSetting`];
    /// after `shutdown`, [`Error::Closed`]: either way nothing changes.
    pub fn set_sampler(&self, sampler: Sampler) -> Result<(), Error> {
        sampler.check()?;
        self.open_for("sampler")?;
        // The place first, then the traces under way: a trace begun
        // between the two is decided by the new sampler whole.
        let from = self
            .counters()
            .queued
            .load(std::sync::atomic::Ordering::Relaxed);
        let under_way = self.open_spans().map(|o| o.trace_ids()).unwrap_or_default();
        (self.inner.controls).set_sampler(SamplerChange {
            sampler,
            from,
            under_way,
        });
        Ok(())
    }

    /// Changes the storm limits ([`Builder::max_events_per_callsite`](crate::Builder::max_events_per_callsite)):
    /// `Some((events, per))` sets them, also when the layer was built
    /// without, `None` lifts them; for events from now on, from any thread.
    /// A callsite's window under way keeps its count; one that read the
    /// old window's length counts, at worst, in a window one new window
    /// long. The emitting threads take no lock for it.
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// let jkool = tracing_jkool::JKoolLayer::new("my-access-token").handle();
    /// jkool
    ///     .set_max_events_per_callsite(Some((10, Duration::from_secs(1))))
    ///     .expect("running");
    /// // ... the storm is over ...
    /// jkool.set_max_events_per_callsite(None).expect("running");
    /// ```
    ///
    /// No events or a window under 1 ms is refused with
    /// [`Error::InvalidSetting`]; after `shutdown`, [`Error::Closed`]:
    /// either way nothing changes.
    pub fn set_max_events_per_callsite(&self, limit: Option<(u32, Duration)>) -> Result<(), Error> {
        storm::check(limit)?;
        self.open_for("max_events_per_callsite")?;
        self.limit_storms(limit);
        Ok(())
    }

    /// Sets the storm limits; the first time, starts the task that tells
    /// what each window dropped (and, at shutdown, what the last did).
    pub(crate) fn limit_storms(&self, limit: Option<(u32, Duration)>) {
        let controls = std::sync::Arc::clone(&self.inner.controls);
        if !controls.set_storms(limit) {
            return;
        }
        let last = std::sync::Arc::clone(&controls);
        self.before_shutdown(Box::new(move |handle: &JKoolHandle| {
            let storms = last.storm_table().into_iter();
            for summary in storms.flat_map(|s| s.summaries(now_usec(), true)) {
                handle.send(summary);
            }
        }));
        // Windows end at any millisecond: told within 100 ms to 1 s of it.
        let per = limit.map_or(Duration::from_secs(1), |(_, per)| per);
        let tick = per.clamp(Duration::from_millis(100), Duration::from_secs(1));
        self.spawn_periodic(tick, move || {
            move |handle: &JKoolHandle| {
                let storms = controls.storm_table()?;
                let mut summaries = storms.summaries(now_usec(), false);
                let last = summaries.pop();
                for summary in summaries {
                    handle.send(summary);
                }
                last
            }
        })
    }

    fn open_for(&self, setting: &'static str) -> Result<(), Error> {
        if self.is_closed() {
            return Err(Error::Closed { setting });
        }
        Ok(())
    }
}
