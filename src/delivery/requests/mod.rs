//! Requests in flight and what their answers do: several requests at once,
//! retries with backoff, splitting what the server refuses until only the
//! bad items are left, and falling back to one object per request only
//! when the endpoint refuses batched bodies.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::task::JoinSet;
use tokio::time::{Duration, Instant};

use crate::delivery::backlog::{body, Backlog};
use crate::delivery::group::Group;
use crate::delivery::settings::{Framing, Settings};
use crate::handle::notices::Reporter;
use crate::handle::stats::Shared;
use crate::item::model::Kind;
use crate::spool::{ChunkRef, Spool};
use crate::transport::{Outcome, Transport};
use crate::wire::Serialized;

mod answers;
mod concurrency;
mod done;
mod groups;

use concurrency::Concurrency;
use done::Done;
use groups::Groups;

/// After falling back to one object per request, try batches again this
/// much later: the endpoint may have changed, or the refusal was a fluke.
const REPROBE_BATCHES: Duration = Duration::from_secs(300);

/// A body that jKool keeps failing on (5xx) while nothing else is sent is
/// split in halves after this many retries, to tell a bad item from a
/// server failing on everything.
const PROBE_AFTER_FAILURES: u32 = 3;

/// In order, a lone body jKool keeps failing on (5xx) holds back the rest
/// for this many tries; then one body goes past it, to tell a bad item
/// (refused alone once jKool takes the other) from jKool failing on
/// everything (both wait). With the default backoff, 6 to 13 s of failures.
const PASS_AFTER_FAILURES: u32 = 8;

/// What a request's task gives back: which group, the answer, the body's
/// size, and how long this attempt took.
#[derive(Debug)]
pub(crate) struct Answer {
    id: u64,
    outcome: Outcome,
    size: u64,
    rtt: Duration,
}

/// The requests: those in flight, those waiting to be tried again, and
/// what the answers so far say about the endpoint.
#[derive(Debug)]
pub(crate) struct Delivery {
    transport: Transport,
    settings: Settings,
    shared: Arc<Shared>,
    pub(crate) reporter: Reporter,
    /// Requests in flight through reqwest or to a file.
    in_flight: JoinSet<Answer>,
    /// Requests in flight on pipelined connections, by id: the size of
    /// their bodies.
    pipelined: HashMap<u64, u64>,
    /// Every group not yet done with, in flight or waiting, by id.
    groups: Groups,
    /// How many requests may be in flight now.
    concurrency: Concurrency,
    next_id: u64,
    /// Set while falling back to one object per request, until then.
    objects_until: Option<Instant>,
    /// The last answer was "unavailable": probe with one request at a
    /// time, retries only, until the server answers again.
    down_since: Option<Instant>,
    last_accepted: Option<Instant>,
    /// Halves of refused two-item bodies: how many were accepted alone.
    pairs: HashMap<u64, u8>,
    /// Items read from the spool and done with, for the worker to
    /// acknowledge there.
    pub(crate) acks: Vec<(ChunkRef, usize)>,
}

impl Delivery {
    pub(crate) fn new(transport: Transport, settings: Settings, shared: Arc<Shared>) -> Self {
        let concurrency = Concurrency::new(settings.max_concurrent_requests, Instant::now());
        shared.concurrency_limit(concurrency.limit());
        Delivery {
            transport,
            settings,
            shared,
            reporter: Reporter::default(),
            in_flight: JoinSet::new(),
            pipelined: HashMap::new(),
            groups: Groups::default(),
            concurrency,
            next_id: 0,
            objects_until: None,
            down_since: None,
            last_accepted: None,
            pairs: HashMap::new(),
            acks: Vec::new(),
        }
    }

    fn framing(&self, now: Instant) -> Framing {
        match self.objects_until {
            Some(until) if now < until => Framing::Object,
            _ => self.settings.framing,
        }
    }

    /// Whether the last answer was "unavailable".
    pub(crate) fn is_down(&self) -> bool {
        self.down_since.is_some()
    }

    /// Whether one request at a time keeps each kind in the order it was
    /// emitted: then a body waiting to be tried again holds back the rest.
    pub(crate) fn ordered(&self) -> bool {
        self.settings.max_concurrent_requests == 1 || !self.transport.concurrent()
    }

    /// Whether no request is in flight or waiting.
    pub(crate) fn is_idle(&self) -> bool {
        self.groups.is_empty()
    }

    /// Items held in memory by requests in flight or waiting to be tried
    /// again: they count against the retry buffer with the backlog.
    pub(crate) fn held(&self) -> usize {
        self.groups.held()
    }

    /// The earliest retry waiting.
    pub(crate) fn next_retry(&self) -> Option<Instant> {
        self.groups.next_retry()
    }

    /// Requests in flight.
    fn in_flight(&self) -> usize {
        self.in_flight.len() + self.pipelined.len()
    }

    /// Whether every slot the limit allows is busy.
    fn full(&self) -> bool {
        self.in_flight() >= self.concurrency.limit()
    }

    /// With every slot busy and items waiting, when the limit may grow
    /// though no answer comes.
    pub(crate) fn next_growth(&self, waiting: bool) -> Option<Instant> {
        (waiting && self.full()).then(|| self.concurrency.period_end())?
    }

    /// The next answer of a request in flight; never, when none is.
    pub(crate) async fn next_answer(&mut self) -> Option<Answer> {
        if let Some(pipelined) = self.transport.pipelined() {
            let answered = pipelined.next_answer().await;
            let size = self.pipelined.remove(&answered.id).unwrap_or_default();
            return Some(Answer {
                id: answered.id,
                outcome: answered.outcome,
                size,
                rtt: answered.rtt,
            });
        }
        match self.in_flight.join_next().await {
            Some(Ok(answer)) => Some(answer),
            // A request's task cannot panic; its group is given up at the
            // deadline with the rest.
            Some(Err(_)) => None,
            None => std::future::pending().await,
        }
    }

    /// Starts requests while there is room under the concurrency limit:
    /// retries that are due first, then batches that are due. While jKool
    /// is unavailable, one retry at a time probes it and new batches wait.
    pub(crate) fn start_requests(
        &mut self,
        backlog: &mut Backlog,
        mut spool: Option<&mut Spool>,
        now: Instant,
    ) {
        if self.full() && self.concurrency.tick(now) {
            self.shared.concurrency_limit(self.concurrency.limit());
        }
        let slots = if self.transport.concurrent() {
            self.concurrency.limit()
        } else {
            1
        };
        loop {
            let limit = if self.is_down() { 1 } else { slots };
            if self.in_flight() >= limit {
                return;
            }
            if let Some(id) = self.groups.due(now) {
                self.launch(id, now);
                continue;
            }
            // What waited out an outage goes before anything newer; in
            // order, so does whatever waits to be tried again.
            let waiting = self.groups.any_waiting_for_jkool() || self.holds_back();
            if waiting || (self.is_down() && self.in_flight() > 0) {
                return;
            }
            let Some((kind, items, chunk)) = self.next_body(backlog, spool.as_deref_mut(), now)
            else {
                return;
            };
            let id = self.next_id;
            self.next_id += 1;
            let group = Group {
                kind,
                items,
                first_try: now,
                last_try: now,
                failures: 0,
                failing_since: None,
                refused_since: None,
                retry_at: None,
                not_before: None,
                pair: None,
                waits_for_jkool: false,
                chunk,
            };
            self.launch_group(id, group, now);
        }
    }

    /// In order, whether a body waiting to be tried again holds back new
    /// ones: any does, but one singled out as refused, and a lone item
    /// failing [`PASS_AFTER_FAILURES`] times, past which one body goes.
    fn holds_back(&self) -> bool {
        let lone = self.groups.len() == 1;
        let passed = |g: &Group| {
            g.refused_since.is_some() || (lone && g.len() == 1 && g.failures >= PASS_AFTER_FAILURES)
        };
        self.ordered() && !self.groups.iter().all(passed)
    }

    /// The items of the next body to send, and the spool chunk they came
    /// from: of the first kind, activities before events, that has a body
    /// due. What is in the backlog is older than what is in the spool; a
    /// kind whose spool has as many chunks out as it allows is passed
    /// over, so that the other kind still goes.
    fn next_body(
        &self,
        backlog: &mut Backlog,
        mut spool: Option<&mut Spool>,
        now: Instant,
    ) -> Option<(Kind, Vec<Serialized>, Option<ChunkRef>)> {
        let eager = !self.framing(now).batches();
        for kind in [Kind::Activity, Kind::Event] {
            let spooled = spool.as_ref().is_some_and(|s| s.has(kind));
            if !backlog.due(kind, now, eager) && !spooled {
                continue;
            }
            match spool.as_deref_mut() {
                Some(spool) if backlog.kind_len(kind) == 0 => {
                    let max_items = if eager { 1 } else { self.settings.batch_size };
                    let max_bytes = self.settings.max_body_bytes;
                    if let Some((items, chunk)) = spool.take(kind, max_items, max_bytes) {
                        return Some((kind, items, Some(chunk)));
                    }
                }
                _ => return Some((kind, self.take_batch(backlog, kind, now), None)),
            }
        }
        None
    }

    /// The oldest items of `kind` for one body: a batch, or, with a
    /// backlog larger than a batch for every request the limit allows, as
    /// many as a body may hold.
    fn take_batch(&self, backlog: &mut Backlog, kind: Kind, now: Instant) -> Vec<Serialized> {
        let max_bytes = self.settings.max_body_bytes;
        let batch = self.settings.batch_size;
        let many = batch.saturating_mul(self.concurrency.limit());
        let max_items = match self.framing(now) {
            Framing::Object => 1,
            _ if backlog.kind_len(kind) > many => usize::MAX,
            _ => batch,
        };
        backlog.take(kind, max_items, max_bytes)
    }

    /// Sends the group `id` that waits to be tried again.
    fn launch(&mut self, id: u64, now: Instant) {
        if let Some(group) = self.groups.remove(id) {
            self.launch_group(id, group, now);
        }
    }

    /// Sends `group` as `id`, which is in flight until its answer.
    fn launch_group(&mut self, id: u64, mut group: Group, now: Instant) {
        let framing = self.framing(now);
        if !framing.batches() && group.items.len() > 1 {
            // Fell back to objects since this group formed: one each.
            for item in group.items {
                let id = self.next_id;
                self.next_id += 1;
                let single = Group {
                    items: vec![item],
                    retry_at: Some(now),
                    ..group
                };
                self.groups.insert(id, single);
            }
            return;
        }
        group.retry_at = None;
        group.last_try = now;
        let body = body(&group.items, framing, self.settings.gzip);
        let size = body.len() as u64;
        let kind = group.kind;
        self.groups.insert(id, group);
        if let Some(pipelined) = self.transport.pipelined() {
            pipelined.post(id, kind, body);
            self.pipelined.insert(id, size);
        } else {
            let request = self.transport.post(kind, body);
            self.in_flight.spawn(async move {
                let started = Instant::now();
                let outcome = request.await;
                let rtt = started.elapsed();
                Answer {
                    id,
                    outcome,
                    size,
                    rtt,
                }
            });
        }
        self.concurrency.started(self.in_flight());
    }
}
