//! How the worker stops: it refuses new items, sends what it accepted by
//! the deadline, gives up (or leaves on disk) the rest, and says on stderr
//! what was lost.

use std::sync::atomic::Ordering;

use tokio::time::Instant;

use super::{Phase, Worker};
use crate::delivery::group::Group;
use crate::handle::notices::Notice;
use crate::item::model::{Item, Kind};

impl Worker {
    /// Refuses new items (the layer counts them as dropped) and sends
    /// everything already accepted, by `give_up_at` at the latest.
    pub(super) fn stop(&mut self, give_up_at: Instant) {
        let give_up_at = match self.phase {
            Phase::Stopping {
                give_up_at: earlier,
            } => earlier.min(give_up_at),
            Phase::Running => give_up_at,
        };
        self.items.close();
        // The queue is closed: taking all it holds keeps memory as bounded
        // as it was, and evicts nothing that was accepted.
        self.phase = Phase::Stopping { give_up_at };
        let now = Instant::now();
        while let Ok(mut item) = self.items.try_recv() {
            self.accept(&mut item, now);
        }
        if let Some(sampling) = &mut self.sampling {
            // Whatever their roots: the open spans were sent just now.
            let left = sampling.drop_all();
            if !left.is_empty() {
                self.shared.sampled_out(left.into_iter());
            }
        }
        let last = self.shared.operations.get().and_then(|o| o.report());
        if let Some(report) = last {
            // Made here, once every span queued was counted; queued as
            // the application's items are, so that the counters add up.
            let counters = &self.shared.counters;
            counters.queued.fetch_add(1, Ordering::Relaxed);
            self.accept(&mut Item::JKoolEvent(Box::new(report)), now);
        }
        self.release_repeats(None);
        self.backlog.flush_everything();
    }

    /// Shutdown's deadline passed: what is left is given up, in flight or
    /// not.
    pub(super) fn abandon_everything(&mut self) {
        let mut groups = self.delivery.abandon();
        let now = Instant::now();
        if self.spool_usable(now) {
            // Left on disk for the next start, with what came from the
            // spool (still there): not given up.
            let kinds = [Kind::Activity, Kind::Event].into_iter();
            self.spill(std::mem::take(&mut groups), kinds, now);
            self.write_spool(now);
        }
        let in_memory = groups.iter().filter(|g| g.chunk.is_none());
        let mut seqs = self.backlog.clear();
        seqs.extend(in_memory.flat_map(Group::seqs));
        if !seqs.is_empty() {
            let why = "could not reach jKool before the shutdown deadline";
            self.delivery.give_up(seqs.into_iter(), why);
        }
    }

    /// Says on stderr, once, that items are being lost: the application's
    /// thread never prints, so the delivery thread tells for it.
    pub(super) fn tell_losses(&mut self) {
        let counters = &self.shared.counters;
        let lost =
            counters.dropped.load(Ordering::Relaxed) + counters.evicted.load(Ordering::Relaxed);
        if lost > self.losses_told {
            if self.losses_told == 0 {
                self.delivery.reporter.say(
                    Notice::Lost,
                    format_args!(
                        "losing items: {lost} so far (queue full, or evicted while jKool \
                         could not keep up); see JKoolHandle::stats"
                    ),
                );
            }
            self.losses_told = lost;
        }
    }

    /// At the end, what was not delivered, if anything.
    pub(super) fn tell_totals(&self) {
        let c = &self.shared.counters;
        let [dropped, evicted, failed] =
            [&c.dropped, &c.evicted, &c.failed].map(|n| n.load(Ordering::Relaxed));
        if dropped + evicted + failed > 0 {
            crate::handle::notices::stderr(format_args!(
                "stopped; not delivered: {dropped} dropped (queue full or after shutdown), \
                 {evicted} evicted (retry buffer full), {failed} failed"
            ));
        }
    }
}
