//! Requests in flight and what their answers do: several requests at once,
//! retries with backoff, splitting what the server refuses until only the
//! bad items are left, and falling back to one object per request only
//! when the endpoint refuses batched bodies.

use std::collections::HashMap;
use std::sync::Arc;

use reqwest::StatusCode;
use tokio::task::JoinSet;
use tokio::time::{Duration, Instant};

use crate::backlog::{body, Backlog};
use crate::group::{Group, Serialized};
use crate::model::Kind;
use crate::report::{Notice, Reporter};
use crate::retry;
use crate::settings::{Framing, Settings};
use crate::shared::Shared;
use crate::spool::{ChunkRef, Spool};
use crate::transport::{Outcome, Transport};

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
    /// Requests in flight.
    in_flight: JoinSet<Answer>,
    /// Every group not yet done with, in flight or waiting, by id.
    groups: Groups,
    /// How many requests may be in flight now.
    concurrency: Concurrency,
    next_id: u64,
    /// Set while falling back to one object per request, until then.
    objects_until: Option<Instant>,
    /// The last answer was "unavailable": probe with one request at a
    /// time, retries only, until the server answers again.
    down: bool,
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
            groups: Groups::default(),
            concurrency,
            next_id: 0,
            objects_until: None,
            down: false,
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
        self.down
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

    /// The next answer of a request in flight; never, when none is.
    pub(crate) async fn next_answer(&mut self) -> Option<Answer> {
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
        let slots = if self.transport.concurrent() {
            self.concurrency.limit()
        } else {
            1
        };
        loop {
            let limit = if self.down { 1 } else { slots };
            if self.in_flight.len() >= limit {
                return;
            }
            if let Some(id) = self.groups.due(now) {
                self.launch(id, now);
                continue;
            }
            // What waited out an outage goes before anything newer; in
            // order, so does whatever waits to be tried again.
            let waiting = self.groups.any_waiting_for_jkool() || self.holds_back();
            if waiting || (self.down && !self.in_flight.is_empty()) {
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
        let request = self.transport.post(group.kind, body);
        self.groups.insert(id, group);
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
        self.concurrency.started(self.in_flight.len());
    }

    /// What an answer does to its group.
    pub(crate) fn finished(&mut self, answer: Answer, backlog: &Backlog) {
        let Answer {
            id,
            outcome,
            size,
            rtt,
        } = answer;
        let now = Instant::now();
        let back_pressure = matches!(
            outcome,
            Outcome::Unavailable { .. } | Outcome::ServerError { .. }
        );
        if self.concurrency.answered(now, rtt, back_pressure) {
            self.shared.concurrency_limit(self.concurrency.limit());
        }
        let Some(mut group) = self.groups.remove(id) else {
            return;
        };
        let count = group.len();
        group.waits_for_jkool = false;
        // Half of a refused pair tells the endpoint refuses batches only if
        // its first answer accepts it; any other answer ends the pair.
        if !matches!(outcome, Outcome::Accepted) {
            if let Some(pair) = group.pair.take() {
                self.pairs.remove(&pair);
            }
        }
        if outcome.server_answered() && std::mem::take(&mut self.down) {
            // jKool is back: what waited for it need not wait any longer.
            self.groups.retry_waiting_now(now);
            self.concurrency.slow_start_again();
        }
        match outcome {
            Outcome::Accepted => {
                self.last_accepted = Some(now);
                self.done(&group, Done::Sent(size));
                self.pair_accepted(group.pair, now);
            }
            Outcome::Unavailable { after, why } => {
                self.down = true;
                group.failing_since = None;
                group.waits_for_jkool = true;
                self.reporter.say(
                    Notice::Retrying,
                    format_args!("could not send {count} item(s) to jKool, will retry: {why}"),
                );
                self.retry(id, group, after, now);
            }
            Outcome::ServerError { status, after } => {
                // Only when jKool took other bodies since this one began
                // failing is it this body's fault; if it fails on
                // everything, items wait. Answers come fast: comparing with
                // the latest try alone would almost never single it out.
                let failing_since = *group.failing_since.get_or_insert(group.last_try);
                let singled_out = self.last_accepted.is_some_and(|at| at > failing_since);
                if singled_out {
                    group.refused_since.get_or_insert(now);
                }
                let refused_too_long = singled_out
                    && group
                        .refused_since
                        .is_some_and(|since| now - since >= self.settings.give_up_refused_after);
                // A body failing alone, with nothing else to compare it
                // with (in order, what follows waits for it), is split once
                // after a few tries: if one half goes through, the other is
                // singled out; if jKool fails on everything, two bodies
                // wait instead of one.
                let probe = !singled_out
                    && count > 1
                    && group.failures >= PROBE_AFTER_FAILURES
                    && self.groups.is_empty()
                    && (backlog.len() == 0 || self.ordered());
                if (singled_out || probe) && count > 1 {
                    self.split(group, now);
                } else if refused_too_long {
                    self.refused(status, &group);
                } else {
                    self.reporter.say(
                        Notice::Retrying,
                        format_args!("jKool answered {status} to {count} item(s), will retry"),
                    );
                    self.retry(id, group, after, now);
                }
            }
            Outcome::TooLarge | Outcome::BadRequest(_) if count > 1 => {
                if count == 2 && matches!(outcome, Outcome::BadRequest(_)) {
                    let pair = self.next_id;
                    self.next_id += 1;
                    self.pairs.insert(pair, 0);
                    let [mut a, mut b] = group.split(now);
                    (a.pair, b.pair) = (Some(pair), Some(pair));
                    self.insert(a);
                    self.insert(b);
                } else {
                    self.split(group, now);
                }
            }
            Outcome::TooLarge => self.refused(StatusCode::PAYLOAD_TOO_LARGE, &group),
            Outcome::BadRequest(status) | Outcome::Rejected(status) => {
                self.refused(status, &group);
            }
            Outcome::TokenRejected(status) => {
                self.reporter.token_rejected(status);
                self.done(&group, Done::Failed);
            }
        }
    }

    fn insert(&mut self, group: Group) {
        let id = self.next_id;
        self.next_id += 1;
        self.groups.insert(id, group);
    }

    fn split(&mut self, group: Group, now: Instant) {
        for half in group.split(now) {
            self.insert(half);
        }
    }

    /// Tries `group` again after a backoff, unless time ran out for it.
    fn retry(&mut self, id: u64, mut group: Group, after: Option<Duration>, now: Instant) {
        group.failures += 1;
        // Never less than the backoff, whatever `Retry-After` says.
        let wait = retry::wait_before(group.failures, after, self.settings.max_retry_wait);
        let out_of_time = self
            .settings
            .give_up_after
            .is_some_and(|limit| now + wait - group.first_try >= limit);
        if out_of_time {
            let count = group.len();
            self.reporter.say(
                Notice::GaveUp,
                format_args!("gave up on {count} item(s): retried for longer than give_up_after"),
            );
            return self.done(&group, Done::GaveUp);
        }
        self.shared.retried();
        group.retry_at = Some(now + wait);
        self.groups.insert(id, group);
    }

    /// Both halves of a refused two-item body went through alone: the
    /// endpoint refuses batches, so send one object per request for a while.
    fn pair_accepted(&mut self, pair: Option<u64>, now: Instant) {
        let Some(pair) = pair else { return };
        let Some(accepted) = self.pairs.get_mut(&pair) else {
            return;
        };
        *accepted += 1;
        if *accepted < 2 {
            return;
        }
        self.pairs.remove(&pair);
        self.reporter.say(
            Notice::Format,
            format_args!(
                "jKool refuses several items in one body here (framing {}); sending one \
                 item per request (batches are tried again every {} s)",
                self.settings.framing,
                REPROBE_BATCHES.as_secs()
            ),
        );
        self.objects_until = Some(now + REPROBE_BATCHES);
    }
}
