//! `Builder::build`: checks the configuration, then starts the pipeline
//! (destination, queue, delivery thread) and hands back the layer.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::capture::callbacks::{Capture, Options};
use crate::config::builder::DEFAULT_MAX_PIPELINED_REQUESTS;
use crate::control::Controls;
use crate::delivery::settings::Framing;
use crate::delivery::worker::Worker;
use crate::handle::stats::Shared;
use crate::handle::JKoolHandle;
use crate::item::source::default_source_fqn;
use crate::item::thread::mark_delivery_thread;
use crate::spool::{FsyncPolicy, Spool};
use crate::transport::destination::destination;
use crate::transport::pipelined::Pipelined;
use crate::transport::{Destination, Transport};
use crate::wire::context::Context;
use crate::{Builder, Error, JKoolLayer};

/// The largest queue: tokio's channel refuses more, and more would be
/// gigabytes of items anyway.
pub(crate) const MAX_QUEUE_CAPACITY: usize = 1 << 26;

/// More requests in flight than this are taken as this many.
const MAX_CONCURRENT: usize = DEFAULT_MAX_PIPELINED_REQUESTS;

/// Longer durations are taken as this: far enough to mean "never", near
/// enough that adding it to a clock cannot overflow.
const LONGEST: Duration = Duration::from_secs(365 * 24 * 3600);

/// # Building
///
/// Every setter below returns the builder; `build` checks them all and
/// starts the pipeline, or says which setting it refused.
///
/// ```no_run
/// let layer = tracing_jkool::JKoolLayer::builder("my-access-token").build()?;
/// # Ok::<(), tracing_jkool::Error>(())
/// ```
impl Builder {
    /// Checks the settings, starts the delivery thread and returns the
    /// layer. Nothing is opened or started when a setting is refused.
    ///
    /// # Errors
    /// [`Error::EmptyToken`], [`Error::InvalidUrl`],
    /// [`Error::InvalidSetting`], or an error starting the HTTP client or
    /// the delivery thread.
    ///
    /// ```
    /// let err = tracing_jkool::JKoolLayer::builder("my-access-token")
    ///     .batch_size(500)
    ///     .retry_buffer(100)
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "invalid setting retry_buffer: must be at least batch_size (500)"
    /// );
    /// ```
    pub fn build(mut self) -> Result<JKoolLayer, Error> {
        self.check()?;
        let mut destination = destination(
            &self.url,
            [self.event_path.as_deref(), self.activity_path.as_deref()],
            &self.token,
            &self.client,
            self.settings.gzip,
            &self.file_rotation,
        )
        .map_err(|err| match err {
            // The URL came from JKOOL_URL: the error names the variable.
            Error::InvalidUrl { url, reason } if self.url_from_env => Error::InvalidEnv {
                variable: "JKOOL_URL",
                value: url,
                reason,
            },
            err => err,
        })?;
        if matches!(destination, Destination::File(_)) {
            self.settings.framing = Framing::Lines;
            // A body goes whole into one file: no body passes a file's cap.
            if let Some(max) = self.file_rotation.max_bytes {
                let max = usize::try_from(max).unwrap_or(usize::MAX).max(1);
                self.settings.max_body_bytes = self.settings.max_body_bytes.min(max);
            }
        }
        if let Destination::Http(http) = &mut destination {
            if self.pipelining && matches!(self.settings.framing, Framing::Object) {
                http.pipelined = Pipelined::for_endpoints(
                    &http.endpoints,
                    &http.headers,
                    &self.client,
                    self.settings.max_concurrent_requests,
                );
                if http.pipelined.is_some() && !self.concurrency_set {
                    self.settings.max_concurrent_requests = DEFAULT_MAX_PIPELINED_REQUESTS;
                }
            }
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("tracing-jkool-io")
            // Threads the runtime starts (DNS lookups) are delivery threads
            // too: their events must not come back to the layer.
            .on_thread_start(mark_delivery_thread)
            .build()
            .map_err(Error::Spawn)?;
        let (items_tx, items) = mpsc::channel(self.queue_capacity);
        let (control_tx, control) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared::default());
        let spool = match self.spool.dir.clone() {
            Some(dir) => {
                let window = self.settings.max_concurrent_requests;
                Some(Spool::open(self.spool, dir, window, shared.clone())?)
            }
            None => None,
        };
        let controls = Arc::new(Controls::new(self.level, self.settings.sampler));
        let worker = Worker::new(
            (items, control),
            shared.clone(),
            Transport::new(destination),
            Context::new(
                self.source_fqn.unwrap_or_else(default_source_fqn),
                self.units,
                self.categories,
            ),
            self.settings,
            spool,
            Arc::clone(&controls),
        );
        let runtime_handle = runtime.handle().clone();
        let stopped = shared.clone();
        let thread = std::thread::Builder::new()
            .name("tracing-jkool".into())
            .spawn(move || {
                mark_delivery_thread();
                // A panic here must not leave `flush` and `shutdown` to
                // wait out their timeouts: they return at once, saying why.
                let run = std::panic::AssertUnwindSafe(|| runtime.block_on(worker.run()));
                let ran = std::panic::catch_unwind(run);
                // Not a plain drop, which waits for blocking tasks such as
                // a DNS lookup: `shutdown` joins this thread within its
                // timeout.
                runtime.shutdown_background();
                if let Err(panic) = ran {
                    let text = crate::handle::panic_message(panic.as_ref());
                    let why = format!("panicked: {}", text.unwrap_or("no message"));
                    crate::handle::notices::stderr(format_args!(
                        "the delivery thread stopped ({why}); what is queued is lost and \
                         new items are dropped"
                    ));
                    stopped.crashed(why);
                }
            })
            .map_err(Error::Spawn)?;
        // A zero wait is no wait; one too long for a clock is clamped.
        let block =
            (!self.lossy && !self.max_block.is_zero()).then_some(self.max_block.min(LONGEST));
        let handle = JKoolHandle::new(
            shared,
            items_tx,
            control_tx,
            thread,
            runtime_handle,
            block,
            Arc::clone(&controls),
        );
        crate::metrics::start(self.metrics, &handle);
        if self.storm_limit.is_some() {
            handle.limit_storms(self.storm_limit);
        }
        crate::handle::flush_at_exit(&handle, self.exit_flush.min(LONGEST));
        if self.capture_panics {
            crate::handle::capture_panics(&handle);
        }
        let options = Options {
            max_value_bytes: self.max_value_bytes,
            keys: self.field_keys,
            inherit: self.inherit_fields,
            panics: self.capture_panics,
            controls: Arc::clone(&controls),
        };
        let capture = Capture::new(options, handle.clone());
        Ok(JKoolLayer::from_parts(controls, capture, handle))
    }

    /// Refuses what cannot work and saturates durations too long to add to
    /// a clock, before anything is opened or started.
    fn check(&mut self) -> Result<(), Error> {
        if self.token.expose().trim().is_empty() {
            return Err(Error::EmptyToken);
        }
        let invalid = |setting, reason: String| Err(Error::InvalidSetting { setting, reason });
        let settings = &mut self.settings;
        for (setting, value, min, max) in [
            ("queue_capacity", self.queue_capacity, 1, MAX_QUEUE_CAPACITY),
            ("batch_size", settings.batch_size, 1, usize::MAX),
            ("max_body_bytes", settings.max_body_bytes, 1, usize::MAX),
            ("retry_buffer", settings.retry_buffer, 1, usize::MAX),
            (
                "max_concurrent_requests",
                settings.max_concurrent_requests,
                1,
                usize::MAX,
            ),
            (
                "suppress_duplicates_capacity",
                settings.dedupe_capacity,
                1,
                usize::MAX,
            ),
        ] {
            if value < min {
                return invalid(setting, format!("must be at least {min}"));
            }
            if value > max {
                return invalid(setting, format!("must be at most {max}"));
            }
        }
        settings.max_concurrent_requests = settings.max_concurrent_requests.min(MAX_CONCURRENT);
        crate::control::storm::check(self.storm_limit)?;
        super::privacy::check(&settings.redaction, &self.field_keys)?;
        if let Some(sampler) = &settings.sampler {
            sampler.check()?;
        }
        if self.spool.max_bytes < 1 << 20 {
            return invalid("spool_max_bytes", "must be at least 1 MiB (1048576)".into());
        }
        if self.file_rotation.max_files == 0 {
            return invalid("max_files", "must be at least 1".into());
        }
        if settings.retry_buffer < settings.batch_size {
            let reason = format!("must be at least batch_size ({})", settings.batch_size);
            return invalid("retry_buffer", reason);
        }
        for (setting, value) in [
            ("flush_interval", settings.flush_interval),
            ("max_retry_wait", settings.max_retry_wait),
            ("request_timeout", self.client.request_timeout),
            ("connect_timeout", self.client.connect_timeout),
        ] {
            if value.is_zero() {
                return invalid(setting, "must be longer than zero".into());
            }
        }
        self.metrics.check()?;
        if settings.gzip && self.url.starts_with("file:") {
            return invalid(
                "gzip",
                "a file:// destination is written as plain JSON lines".into(),
            );
        }
        for duration in [
            &mut settings.flush_interval,
            &mut settings.max_retry_wait,
            &mut settings.give_up_refused_after,
            &mut self.client.request_timeout,
            &mut self.client.connect_timeout,
        ]
        .into_iter()
        .chain(settings.give_up_after.as_mut())
        .chain(settings.dedupe.as_mut())
        .chain(match &mut self.spool.fsync {
            FsyncPolicy::Interval(every) => Some(every),
            _ => None,
        }) {
            *duration = (*duration).min(LONGEST);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Builder;

    #[test]
    fn rejects_bad_urls_with_the_reason() {
        for (url, reason) in [
            ("not a url", "it has no scheme"),
            ("ftp://example.com", "scheme must be http, https or file"),
            ("http://user:pw@example.com", "credentials"),
        ] {
            let err = Builder::new("t".into()).url(url).build().unwrap_err();
            assert!(matches!(err, Error::InvalidUrl { .. }), "{url}: {err}");
            assert!(err.to_string().contains(reason), "{url}: {err}");
        }
    }

    #[test]
    fn rejects_empty_token_and_zero_sizes() {
        assert!(matches!(
            Builder::new("  ".into()).build(),
            Err(Error::EmptyToken)
        ));
        let err = Builder::new("t".into()).batch_size(0).build().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid setting batch_size: must be at least 1"
        );
    }

    #[test]
    fn bad_proxy_urls_and_certificates_are_build_errors() {
        let err = Builder::new("t".into())
            .proxy("::nope::")
            .build()
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidSetting {
                    setting: "proxy",
                    ..
                }
            ),
            "{err}"
        );
        let err = Builder::new("t".into())
            .root_certificate_pem(&b"not a certificate"[..])
            .build()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid setting root_certificate_pem: no certificate in the PEM text"
        );
    }

    #[test]
    fn more_requests_in_flight_than_1024_are_taken_as_1024() {
        let mut builder = Builder::new("t".into()).max_concurrent_requests(usize::MAX);
        builder.check().expect("accepted");
        assert_eq!(builder.settings.max_concurrent_requests, MAX_CONCURRENT);
        let mut builder = Builder::new("t".into()).max_concurrent_requests(7);
        builder.check().expect("accepted");
        assert_eq!(builder.settings.max_concurrent_requests, 7);
    }

    #[test]
    fn a_panic_on_the_delivery_thread_ends_every_wait_at_once_saying_why() {
        // Nothing listens there: the item stays undelivered.
        let layer = Builder::new("t".into())
            .url("http://127.0.0.1:9")
            .build()
            .expect("layer");
        let handle = layer.handle();
        handle.send(crate::JKoolEvent::new("queued before"));
        handle.panic_delivery_thread();
        let started = std::time::Instant::now();
        let err = handle.flush(Duration::from_secs(30)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5), "{err}");
        assert!(
            matches!(&err, Error::DeliveryStopped { pending: 1, why } if why.contains("a test asked")),
            "{err}"
        );
        handle.send(crate::JKoolEvent::new("queued after"));
        assert_eq!(handle.stats().dropped, 1, "{:?}", handle.stats());
        let err = handle.shutdown(Duration::from_secs(30)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5), "{err}");
    }

    #[test]
    fn debug_never_shows_the_token() {
        let builder =
            Builder::new("secret-token-123".into()).proxy("http://me:pass-456@proxy:3128");
        let text = format!("{builder:?}");
        assert!(!text.contains("secret-token-123"), "{text}");
        assert!(!text.contains("pass-456"), "{text}");
        assert!(text.contains("<redacted>"));
    }
}
