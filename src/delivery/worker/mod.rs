//! The delivery thread's loop: takes items from the queue, serializes them
//! into the backlog, and starts requests as batches fill or age; answers
//! flush and shutdown. What becomes of each request is `requests`'s.

use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::BytesMut;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::control::{Controls, SamplerWatch};
use crate::delivery::backlog::Backlog;
use crate::delivery::dedupe::{Absorbed, Dedupe};
use crate::delivery::requests::Delivery;
use crate::delivery::sampling::{Admitted, Sampling};
use crate::delivery::settings::Settings;
use crate::handle::stats::Shared;
use crate::handle::Command;
use crate::item::model::{Item, Kind};
use crate::item::sampler::Sampler;
use crate::spool::Spool;
use crate::transport::Transport;
use crate::wire::context::Context;
use crate::wire::redact::Redactor;
use crate::wire::Serialized;

mod chunk;
mod spooling;
mod stopping;

use chunk::split_written;

/// How long the delivery thread keeps delivering once the layer and every
/// handle are gone without a `shutdown`.
pub(crate) const DROP_GRACE: Duration = Duration::from_secs(5);

/// How many items the worker takes from the queue at once.
const INBOX: usize = 64;

/// Where the worker is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Taking items and delivering them.
    Running,
    /// Delivering what was accepted, until done or until the deadline.
    Stopping { give_up_at: Instant },
}

/// Everything the delivery thread owns.
#[derive(Debug)]
pub(crate) struct Worker {
    items: mpsc::Receiver<Item>,
    control: mpsc::UnboundedReceiver<Command>,
    control_open: bool,
    shared: Arc<Shared>,
    context: Context,
    settings: Settings,
    phase: Phase,
    backlog: Backlog,
    dedupe: Option<Dedupe>,
    /// Sampled-out traces waiting for their decision, with a sampler.
    sampling: Option<Sampling>,
    /// What `set_sampler` changes.
    sampler_watch: SamplerWatch,
    redactor: Redactor,
    delivery: Delivery,
    /// Where items that cannot be delivered now wait, with a spool dir.
    spool: Option<Spool>,
    /// Items taken from the queue together, at most [`INBOX`]; kept empty
    /// between turns.
    inbox: Vec<Item>,
    /// Where items' JSON is written and split off as `Bytes`, [`chunk::CHUNK`]
    /// bytes at a time, so that an item costs a reference count rather
    /// than an allocation and a copy. An item held keeps
    /// its whole chunk alive: items are mostly let go of in the order they
    /// came, so what is held is about their JSON plus a chunk, but at worst
    /// (an item retried long after the rest of its chunk was delivered) a
    /// chunk per item held.
    chunk: BytesMut,
    /// Losses already told on stderr, to say the first one.
    losses_told: u64,
    /// Items taken from the queue so far.
    taken: u64,
    /// The queue's items up to this many are flushed when taken: a flush
    /// covers what was queued before it, though the retry buffer may take
    /// it only bit by bit.
    flush_upto: u64,
}

impl Worker {
    /// A worker that takes items and commands from `queues`.
    pub(crate) fn new(
        (items, control): (mpsc::Receiver<Item>, mpsc::UnboundedReceiver<Command>),
        shared: Arc<Shared>,
        transport: Transport,
        context: Context,
        settings: Settings,
        spool: Option<Spool>,
        controls: Arc<Controls>,
    ) -> Self {
        Worker {
            items,
            control,
            control_open: true,
            delivery: Delivery::new(transport, settings.clone(), shared.clone()),
            shared,
            context,
            phase: Phase::Running,
            backlog: Backlog::new(settings.batch_size, settings.flush_interval),
            dedupe: settings
                .dedupe
                .map(|window| Dedupe::new(window, settings.dedupe_capacity)),
            sampling: settings.sampler.map(Sampling::new),
            sampler_watch: SamplerWatch::new(controls),
            redactor: Redactor::new(&settings.redaction),
            settings,
            spool,
            inbox: Vec::with_capacity(INBOX),
            chunk: BytesMut::new(),
            losses_told: 0,
            taken: 0,
            flush_upto: 0,
        }
    }

    /// Runs until shut down, or until the layer and every handle are gone
    /// (then for at most [`DROP_GRACE`]); delivers what it can, gives up
    /// the rest, and marks the pipeline stopped.
    pub(crate) async fn run(mut self) {
        // One timer for the whole run, moved only when the next deadline
        // does: a timer made and dropped on every turn cost more than the
        // rest of a turn for one item.
        let timer = tokio::time::sleep_until(Instant::now());
        tokio::pin!(timer);
        loop {
            let now = Instant::now();
            self.release_repeats(Some(now));
            self.write_spool(now);
            let spool = self.spool.as_mut();
            self.delivery.start_requests(&mut self.backlog, spool, now);
            if let Phase::Stopping { give_up_at } = self.phase {
                if self.is_idle() {
                    break;
                }
                if self.delivery.is_down() && self.spool_usable(now) {
                    // jKool is down: what is left waits on disk for the
                    // next start instead of for the deadline.
                    self.abandon_everything();
                    break;
                }
                if now >= give_up_at {
                    self.abandon_everything();
                    break;
                }
            }
            self.tell_losses();
            let wake = self.next_wake();
            if let Some(wake) = wake.filter(|&at| at != timer.deadline()) {
                timer.as_mut().reset(wake);
            }
            tokio::select! {
                biased;
                command = self.control.recv(), if self.control_open => self.command(command),
                Some(answer) = self.delivery.next_answer() => {
                    self.delivery.finished(answer, &self.backlog);
                    self.answered();
                }
                item = self.items.recv(), if self.takes_items() => self.received(item),
                () = &mut timer, if wake.is_some() => {}
            }
        }
        if let Some(mut spool) = self.spool.take() {
            // Closed, and its lock let go, before a waiting `shutdown`
            // returns: a new pipeline may open the directory at once.
            spool.close();
        }
        self.tell_losses();
        self.tell_totals();
        self.shared.stop();
    }

    fn command(&mut self, command: Option<Command>) {
        match command {
            Some(Command::Flush { queued }) => {
                self.flush_upto = self.flush_upto.max(queued);
                self.drain(Instant::now());
                self.send_what_waits();
            }
            Some(Command::Shutdown { give_up_at }) => self.stop(give_up_at.into()),
            #[cfg(test)]
            Some(Command::Panic) => panic!("a test asked the delivery thread to panic"),
            None => self.control_open = false,
        }
    }

    fn received(&mut self, item: Option<Item>) {
        match item {
            Some(mut item) => {
                let flushing = self.taken < self.flush_upto;
                // One clock read for all that is taken now.
                let now = Instant::now();
                self.accept(&mut item, now);
                self.drain(now);
                if flushing {
                    self.send_what_waits();
                }
            }
            // The layer and every handle are gone: deliver for a while.
            None => self.stop(Instant::now() + DROP_GRACE),
        }
    }

    /// Takes what waits in the queue without waiting for more, but no more
    /// than was there when it started, so that a busy application cannot
    /// keep the loop from its timers and requests.
    fn drain(&mut self, now: Instant) {
        let room = match self.delivery.is_down() || self.spool_usable(now) {
            true => usize::MAX,
            false => self.settings.retry_buffer.saturating_sub(self.held()),
        };
        let mut left = self.items.len().min(room);
        let mut inbox = std::mem::take(&mut self.inbox);
        // A few at a time: one release of the queue's permits for them all,
        // rather than one per item as `try_recv` does. The queue holds
        // items, so this does not wait; should it find none ready, the
        // no-op waker it leaves is replaced by the loop's next `recv`.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        while left > 0 {
            let limit = left.min(INBOX);
            match self.items.poll_recv_many(&mut cx, &mut inbox, limit) {
                Poll::Ready(taken) if taken > 0 => left -= taken.min(left),
                _ => break,
            }
            // Written where they lie, not moved out first.
            for item in &mut inbox {
                self.accept(item, now);
            }
            inbox.clear();
        }
        self.inbox = inbox;
    }

    /// What a flush does with what it finds: held repeats and partial batches go now.
    fn send_what_waits(&mut self) {
        self.release_repeats(None);
        self.backlog.flush_below(self.taken);
    }

    /// Moves the events whose repeat window ended by `now` (or all) on
    /// towards their batch.
    fn release_repeats(&mut self, now: Option<Instant>) {
        let released = self
            .dedupe
            .as_mut()
            .map(|d| d.release(now))
            .unwrap_or_default();
        let now = now.unwrap_or_else(Instant::now);
        for (seq, mut item) in released {
            self.hold(&mut item, seq, now);
        }
    }

    /// Takes an item from the queue: sampling may hold it back for its
    /// trace's decision, or drop it; what goes on meets duplicate
    /// suppression, then its batch.
    fn accept(&mut self, item: &mut Item, now: Instant) {
        if let Some(operations) = self.shared.operations.get() {
            operations.observe(item);
        }
        // Its place in the queue: what a flush waits for is below its own.
        let seq = self.taken;
        self.taken += 1;
        self.change_sampler(seq);
        if let Some(sampling) = &mut self.sampling {
            let mut early = Vec::new();
            let admitted = sampling.admit(seq, item, &mut early);
            if !early.is_empty() {
                self.shared.sampled_out(early.into_iter());
            }
            match admitted {
                Admitted::Pass => {}
                Admitted::Held => return self.shared.held_back(seq),
                Admitted::Dropped(seqs) => return self.shared.sampled_out(seqs.into_iter()),
                Admitted::Kept(items) => {
                    for (seq, mut item) in items {
                        self.sampled(&mut item, seq, now);
                    }
                    return;
                }
            }
        }
        self.sampled(item, seq, now);
    }

    /// Takes up a new sampler once the queue reaches where it begins.
    fn change_sampler(&mut self, seq: u64) {
        if let Some(change) = self.sampler_watch.due(seq) {
            // Without a sampler before, what was under way is kept.
            let sampling =
                (self.sampling).get_or_insert_with(|| Sampling::new(Sampler::ratio(1.0)));
            sampling.change(change.sampler, change.under_way);
        }
    }

    /// What sampling let through: repeats of a held event are counted,
    /// everything else goes towards its batch.
    fn sampled(&mut self, item: &mut Item, seq: u64, now: Instant) {
        if let Some(dedupe) = &mut self.dedupe {
            let taken = std::mem::replace(item, Item::taken());
            match dedupe.admit(taken, seq, now) {
                Ok(back) => *item = back,
                Err(Absorbed::Held) => return,
                Err(Absorbed::Repeat) => return self.shared.suppressed(seq),
            }
        }
        self.hold(item, seq, now);
    }

    /// Serializes an item into the backlog, or into the spool while items
    /// cannot be delivered now; evicts the oldest waiting item when the
    /// retry buffer is full.
    fn hold(&mut self, item: &mut Item, seq: u64, now: Instant) {
        item.fill_defaults(&self.context.source_fqn);
        self.redactor.apply(item);
        let context = &self.context;
        let written = split_written(&mut self.chunk, |out| {
            crate::wire::item_json(item, context, out)
        });
        let Ok(json) = written else {
            self.shared.failed(std::iter::once(seq));
            return;
        };
        let item_json = Serialized { seq, json };
        let kind = item.kind();
        let spools = self.spool.as_ref().is_some_and(|s| s.has(kind))
            || self.delivery.is_down()
            || self.held() >= self.settings.retry_buffer;
        if spools && self.spool_usable(now) {
            self.spill_older(kind, now);
        }
        match self.spool.as_mut() {
            Some(spool) if spools && spool.usable(now) => {
                if let Err(back) = spool.append(kind, &item_json) {
                    self.keep(back, now);
                }
            }
            _ => self.keep([(kind, item_json)], now),
        }
    }

    /// Whether to take items from the queue now. While jKool is up but
    /// slower than the application, a full backlog leaves them in the
    /// queue, so that the newest are dropped there; while jKool is down,
    /// the backlog takes them and evicts its oldest, so that what is
    /// delivered after the outage is the most recent.
    fn takes_items(&self) -> bool {
        self.phase == Phase::Running
            && (self.delivery.is_down()
                || self.held() < self.settings.retry_buffer
                || self.spool_usable(Instant::now()))
    }

    /// Items the delivery thread holds in memory: waiting for a request,
    /// in flight, or waiting to be tried again.
    fn held(&self) -> usize {
        self.backlog.len() + self.delivery.held()
    }

    fn is_idle(&self) -> bool {
        let spooled =
            (self.spool.as_ref()).is_some_and(|s| s.has(Kind::Event) || s.has(Kind::Activity));
        self.backlog.len() == 0 && self.delivery.is_idle() && !spooled
    }

    /// The next time something is due: a batch's age, a repeat window, a
    /// retry, the limit's growth, a spool sync, or the shutdown deadline;
    /// none when nothing is.
    fn next_wake(&self) -> Option<Instant> {
        let batch = [Kind::Activity, Kind::Event]
            .into_iter()
            .filter_map(|kind| self.backlog.front(kind))
            .map(|(_, arrived)| arrived + self.settings.flush_interval);
        let repeats = self.dedupe.as_ref().and_then(Dedupe::next_due);
        let stop = match self.phase {
            Phase::Stopping { give_up_at } => Some(give_up_at),
            Phase::Running => None,
        };
        let sync = self.spool.as_ref().and_then(Spool::next_sync);
        batch
            .chain(repeats)
            .chain(self.delivery.next_retry())
            .chain(self.delivery.next_growth(self.backlog.len() > 0))
            .chain(sync)
            .chain(stop)
            .min()
    }
}
