//! The background task: drains the queue into batches by count and by age,
//! serializes them, and delivers each batch in order, retrying what failed
//! for a passing reason and splitting what was too large.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::dedupe::{Absorbed, Dedupe};
use crate::handle::{Command, Shared};
use crate::model::{Context, Item, Kind};
use crate::retry;
use crate::transport::{Outcome, Transport};

/// How items are grouped into request bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFormat {
    /// A JSON array of items of one kind per POST.
    Array,
    /// One JSON object per POST, newline-terminated, as JESL sends.
    Object,
    /// Newline-delimited JSON, a batch at a time: the file sink's lines.
    Lines,
}

/// The delivery settings, checked by the builder.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub batch_size: usize,
    pub flush_interval: Duration,
    pub max_body_bytes: usize,
    /// Items the worker holds (batching, or waiting out an outage) beyond
    /// the queue; past it the oldest are dropped.
    pub retry_buffer: usize,
    pub max_retry_wait: Duration,
    pub give_up_after: Option<Duration>,
    pub format: BodyFormat,
    /// Compress bodies with gzip.
    pub gzip: bool,
    /// Suppress repeats of an event within this window.
    pub dedupe: Option<Duration>,
}

/// One serialized item waiting to be sent.
#[derive(Debug)]
struct Held {
    /// Arrival order across both kinds, to find the oldest.
    seq: u64,
    json: Vec<u8>,
}

/// Everything the background task owns.
#[derive(Debug)]
pub(crate) struct Worker {
    items: mpsc::Receiver<Item>,
    control: mpsc::UnboundedReceiver<Command>,
    shared: Arc<Shared>,
    transport: Transport,
    context: Context,
    settings: Settings,
    events: VecDeque<Held>,
    activities: VecDeque<Held>,
    next_seq: u64,
    /// When the oldest held item must be sent by.
    batch_deadline: Option<Instant>,
    dedupe: Option<Dedupe>,
    items_open: bool,
    control_open: bool,
    flush_requested: bool,
    stopping: bool,
    /// Past this, shutdown gives up on what is left.
    stop_at: Option<Instant>,
}

impl Worker {
    pub fn new(
        items: mpsc::Receiver<Item>,
        control: mpsc::UnboundedReceiver<Command>,
        shared: Arc<Shared>,
        transport: Transport,
        context: Context,
        settings: Settings,
    ) -> Self {
        Worker {
            items,
            control,
            shared,
            transport,
            context,
            events: VecDeque::new(),
            activities: VecDeque::new(),
            next_seq: 0,
            batch_deadline: None,
            dedupe: settings.dedupe.map(Dedupe::new),
            settings,
            items_open: true,
            control_open: true,
            flush_requested: false,
            stopping: false,
            stop_at: None,
        }
    }

    /// Runs until shut down, or until the layer and every handle are gone;
    /// then delivers what is left and marks the pipeline stopped.
    pub async fn run(mut self) {
        while !self.stopping {
            let wake = match (
                self.batch_deadline,
                self.dedupe.as_ref().and_then(Dedupe::next_due),
            ) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            tokio::select! {
                biased;
                command = self.control.recv(), if self.control_open => self.command(command),
                item = self.items.recv(), if self.items_open => self.received(item),
                () = sleep_until(wake), if wake.is_some() => self.woken().await,
            }
            if self.flush_requested {
                self.flush_requested = false;
                self.send_everything().await;
            } else {
                self.send_full_batches().await;
            }
        }
        // Refuse new items (the layer counts them as dropped), then deliver
        // everything already accepted.
        self.items.close();
        self.send_everything().await;
        self.shared.stop();
    }

    /// Sends everything accepted so far: what waits in the queue, events
    /// held for repeats, and partial batches.
    async fn send_everything(&mut self) {
        self.drain().await;
        self.release_repeats(None);
        self.send_held().await;
    }

    fn command(&mut self, command: Option<Command>) {
        match command {
            Some(Command::Flush) => self.flush_requested = true,
            Some(Command::Shutdown { give_up_at }) => {
                self.stopping = true;
                self.stop_at = Some(give_up_at.into());
            }
            None => {
                self.control_open = false;
                self.stopping = true;
            }
        }
    }

    fn received(&mut self, item: Option<Item>) {
        match item {
            Some(item) => self.accept(item),
            None => {
                self.items_open = false;
                self.stopping = true;
            }
        }
    }

    /// Takes every item already in the queue without waiting for more.
    /// Full batches go out as they form, so that a full queue never
    /// overflows the retry buffer.
    async fn drain(&mut self) {
        while let Ok(item) = self.items.try_recv() {
            self.accept(item);
            self.send_full_batches().await;
        }
    }

    /// A timer ran out: events held for repeats may be due, and so may the
    /// batch.
    async fn woken(&mut self) {
        let now = Instant::now();
        self.release_repeats(Some(now));
        if self.batch_deadline.is_some_and(|at| at <= now) {
            self.send_held().await;
        }
    }

    /// Moves the events whose repeat window ended by `now` (or all) on
    /// towards their batch.
    fn release_repeats(&mut self, now: Option<Instant>) {
        let released = self
            .dedupe
            .as_mut()
            .map(|d| d.release(now))
            .unwrap_or_default();
        for item in released {
            self.hold(item);
        }
    }

    /// Takes an item from the queue: repeats of a held event are counted,
    /// everything else goes towards its batch.
    fn accept(&mut self, item: Item) {
        let item = match &mut self.dedupe {
            None => item,
            Some(dedupe) => match dedupe.admit(item, Instant::now()) {
                Ok(item) => item,
                Err(Absorbed::Held) => return,
                Err(Absorbed::Repeat) => return self.shared.suppressed(1),
            },
        };
        self.hold(item);
    }

    /// Serializes an item and holds it for its batch, dropping the oldest
    /// held item when the buffer is full.
    fn hold(&mut self, mut item: Item) {
        item.fill_defaults(&self.context);
        // An event with a few fields is about 700 bytes of JSON.
        let mut json = Vec::with_capacity(1024);
        if item.write_json(&self.context, &mut json).is_err() {
            self.shared.failed(1);
            return;
        }
        if self.batch_deadline.is_none() {
            self.batch_deadline = Some(Instant::now() + self.settings.flush_interval);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.held(item.kind()).push_back(Held { seq, json });
        if self.events.len() + self.activities.len() > self.settings.retry_buffer {
            let oldest = match (self.events.front(), self.activities.front()) {
                (Some(e), Some(a)) if a.seq < e.seq => Kind::Activity,
                (Some(_), _) => Kind::Event,
                _ => Kind::Activity,
            };
            self.held(oldest).pop_front();
            self.shared.dropped(1);
        }
    }

    fn held(&mut self, kind: Kind) -> &mut VecDeque<Held> {
        match kind {
            Kind::Event => &mut self.events,
            Kind::Activity => &mut self.activities,
        }
    }

    async fn send_full_batches(&mut self) {
        for kind in [Kind::Activity, Kind::Event] {
            while self.held(kind).len() >= self.settings.batch_size {
                let batch = self.take_batch(kind);
                self.send(kind, batch).await;
            }
        }
    }

    /// Sends everything held now; items that arrive meanwhile wait for the
    /// next round.
    async fn send_held(&mut self) {
        for kind in [Kind::Activity, Kind::Event] {
            let mut left = self.held(kind).len();
            while left > 0 && !self.held(kind).is_empty() {
                let batch = self.take_batch(kind);
                left = left.saturating_sub(batch.len());
                self.send(kind, batch).await;
            }
        }
        if self.events.is_empty() && self.activities.is_empty() {
            self.batch_deadline = None;
        }
    }

    /// The oldest items of `kind`: at most a batch, and no more bytes than
    /// a body may hold (but always at least one item).
    fn take_batch(&mut self, kind: Kind) -> Vec<Vec<u8>> {
        let (max_items, max_bytes) = (self.settings.batch_size, self.settings.max_body_bytes);
        let held = self.held(kind);
        let mut batch = Vec::new();
        let mut bytes = 2; // the array's brackets
        while let Some(next) = held.front() {
            let size = next.json.len() + 1;
            if batch.len() == max_items || (!batch.is_empty() && bytes + size > max_bytes) {
                break;
            }
            bytes += size;
            batch.extend(held.pop_front().map(|h| h.json));
        }
        batch
    }

    /// Delivers one batch: splits it on 413, falls back to one object per
    /// request on 400/415, and counts what became of every item.
    async fn send(&mut self, kind: Kind, batch: Vec<Vec<u8>>) {
        let mut groups: VecDeque<Vec<Vec<u8>>> = match self.settings.format {
            BodyFormat::Array | BodyFormat::Lines => VecDeque::from([batch]),
            BodyFormat::Object => batch.into_iter().map(|json| vec![json]).collect(),
        };
        while let Some(mut group) = groups.pop_front() {
            let count = group.len();
            let body = self.body(&group);
            let size = body.len();
            match self.post_with_retry(kind, body, count).await {
                Outcome::Accepted => self.shared.sent(count as u64, size as u64),
                Outcome::TooLarge if count > 1 => {
                    let second = group.split_off(count / 2);
                    groups.push_front(second);
                    groups.push_front(group);
                }
                Outcome::BadRequest(status) if count > 1 => {
                    self.transport.report(format_args!(
                        "jKool answered {status} to a batch; sending one item per request from now on"
                    ));
                    self.settings.format = BodyFormat::Object;
                    groups = group
                        .into_iter()
                        .chain(groups.into_iter().flatten())
                        .map(|json| vec![json])
                        .collect();
                }
                Outcome::TooLarge => self.reject(StatusCode::PAYLOAD_TOO_LARGE, count),
                Outcome::BadRequest(status) => self.reject(status, count),
                Outcome::Rejected => self.shared.failed(count as u64),
                Outcome::Retry { .. } => self.give_up(count as u64),
            }
        }
    }

    fn reject(&mut self, status: StatusCode, count: usize) {
        self.transport.rejected(status, count);
        self.shared.failed(count as u64);
    }

    /// Items that could not be delivered in time: failed, and for a
    /// shutdown, reported as undelivered.
    fn give_up(&mut self, count: u64) {
        self.transport.report(format_args!(
            "gave up on {count} item(s) that could not reach jKool in time"
        ));
        self.shared.abandoned(count);
    }

    fn body(&self, group: &[Vec<u8>]) -> Bytes {
        let mut body = Vec::with_capacity(group.iter().map(|j| j.len() + 1).sum::<usize>() + 2);
        match self.settings.format {
            BodyFormat::Array => {
                body.push(b'[');
                for (i, json) in group.iter().enumerate() {
                    if i > 0 {
                        body.push(b',');
                    }
                    body.extend_from_slice(json);
                }
                body.push(b']');
            }
            BodyFormat::Object | BodyFormat::Lines => {
                for json in group {
                    // Newline-terminated, as JESL sends.
                    body.extend_from_slice(json);
                    body.push(b'\n');
                }
            }
        }
        if self.settings.gzip {
            return Bytes::from(gzip(&body));
        }
        Bytes::from(body)
    }

    /// POSTs `body` until it gets an answer that is not worth retrying,
    /// or the retry time or the shutdown deadline runs out (then the last
    /// `Outcome::Retry` is returned). Waits between tries take in new items.
    async fn post_with_retry(&mut self, kind: Kind, body: Bytes, count: usize) -> Outcome {
        let first_try = Instant::now();
        let mut attempt = 0;
        loop {
            let post = self.transport.post(kind, body.clone(), count);
            let outcome = match self.stop_at {
                Some(at) => tokio::time::timeout_at(at, post)
                    .await
                    .unwrap_or(Outcome::Retry { after: None }),
                None => post.await,
            };
            let Outcome::Retry { after } = outcome else {
                return outcome;
            };
            attempt += 1;
            let wait = retry::wait_before(attempt, after, self.settings.max_retry_wait);
            let resume = Instant::now() + wait;
            if self.out_of_time(first_try, resume) {
                return outcome;
            }
            self.shared.retried();
            self.absorb_until(resume).await;
            if self.out_of_time(first_try, Instant::now()) {
                return outcome;
            }
        }
    }

    fn out_of_time(&self, first_try: Instant, at: Instant) -> bool {
        self.stop_at.is_some_and(|stop| at >= stop)
            || self
                .settings
                .give_up_after
                .is_some_and(|limit| at.duration_since(first_try) >= limit)
    }

    /// Waits until `at` (or the shutdown deadline), taking in new items and
    /// commands meanwhile so that the queue keeps draining into the buffer.
    async fn absorb_until(&mut self, at: Instant) {
        loop {
            let until = self.stop_at.map_or(at, |stop| stop.min(at));
            tokio::select! {
                biased;
                command = self.control.recv(), if self.control_open => self.command(command),
                item = self.items.recv(), if self.items_open => self.received(item),
                () = tokio::time::sleep_until(until) => return,
            }
        }
    }
}

#[cfg(feature = "gzip")]
fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

#[cfg(not(feature = "gzip"))]
fn gzip(body: &[u8]) -> Vec<u8> {
    body.to_vec()
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
