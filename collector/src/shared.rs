//! State shared by the server thread and the [`super::Collector`] handle.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hyper::StatusCode;

use super::body::RawItem;
use super::fault::{Planned, Script};
use super::index::{Index, Info};
use super::record::Recorder;
use super::ReceivedRequest;

/// How the collector judges a request; fixed when it starts.
#[derive(Debug)]
pub(super) struct Settings {
    pub(super) token: Option<String>,
    /// Longer bodies are answered `413`.
    pub(super) max_body: usize,
    /// Answered to a body holding more than one item, when set.
    pub(super) single_objects: Option<StatusCode>,
    /// Keep each request's body in its log entry.
    pub(super) keep_bodies: bool,
    /// A body with an item whose JSON contains one of these strings is
    /// answered the status of the first that matches.
    pub(super) reject: Vec<(String, StatusCode)>,
    /// Every kept item is appended here, when set.
    pub(super) record: Option<Recorder>,
}

pub(super) struct Shared {
    pub(super) settings: Settings,
    state: Mutex<State>,
    /// Notified whenever items or requests are added.
    pub(super) arrived: Condvar,
    /// Every answer waits this long once the request is judged, in
    /// nanoseconds; changed at any time by `Collector::set_latency`.
    latency_nanos: AtomicU64,
    /// Requests being handled now, and the most there ever were at once.
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
}

/// Counts a request as being handled while it lives.
pub(super) struct Handling<'a>(&'a Shared);

impl Drop for Handling<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Items, requests and faults live under one lock: a waiter woken by new
/// items also sees the request that carried them, and taking a fault is
/// atomic with stamping the request's arrival.
#[derive(Default)]
pub(super) struct State {
    pub(super) items: Vec<RawItem>,
    /// In arrival order (by `at`), whatever the order they were answered.
    pub(super) requests: Vec<ReceivedRequest>,
    pub(super) faults: Script,
    /// The web view's indexes over `items`, item for item.
    pub(super) index: Index,
}

impl Shared {
    pub(super) fn new(settings: Settings, latency: Duration) -> Self {
        let shared = Shared {
            settings,
            state: Mutex::new(State::default()),
            arrived: Condvar::new(),
            latency_nanos: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            peak_in_flight: AtomicUsize::new(0),
        };
        shared.set_latency(latency);
        shared
    }

    pub(super) fn latency(&self) -> Duration {
        Duration::from_nanos(self.latency_nanos.load(Ordering::Relaxed))
    }

    pub(super) fn set_latency(&self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.latency_nanos.store(nanos, Ordering::Relaxed);
    }

    /// Counts a request as handled until the guard is dropped.
    pub(super) fn handling(&self) -> Handling<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        Handling(self)
    }

    pub(super) fn peak_in_flight(&self) -> usize {
        self.peak_in_flight.load(Ordering::SeqCst)
    }

    /// Locks the state; a panic while holding the lock cannot leave it
    /// half-updated (every update is one push, insert or pop), so poisoning
    /// is ignored.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stamps a request's arrival and takes the next fault, if any.
    pub(super) fn arrive(&self) -> (Instant, Option<Planned>) {
        let mut state = self.lock();
        (Instant::now(), state.faults.pop())
    }

    /// Logs an answered request and keeps its items.
    pub(super) fn record(&self, request: ReceivedRequest, items: Vec<RawItem>) {
        // Read outside the lock: the server keeps taking requests meanwhile.
        let infos: Vec<Info> = items
            .iter()
            .map(|raw| Info::of(&serde_json::from_str(raw.get()).unwrap_or_default()))
            .collect();
        // Before the items are visible: whoever sees them finds them in the
        // file too. Only the server thread records, so the file's order is
        // the items' order.
        if let Some(recorder) = &self.settings.record {
            recorder.append(&items);
        }
        let mut state = self.lock();
        // A delayed request is answered after later ones: keep the log in
        // arrival order.
        let at = state.requests.partition_point(|r| r.at <= request.at);
        state.requests.insert(at, request);
        state.items.extend(items);
        for info in infos {
            state.index.add(info);
        }
        drop(state);
        self.arrived.notify_all();
    }
}
