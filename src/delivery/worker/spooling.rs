//! The worker and the spool: what goes to disk and back, and what stays in
//! memory when the disk fails.

use tokio::time::Instant;

use super::{Phase, Worker};
use crate::delivery::group::Group;
use crate::item::model::Kind;
use crate::wire::Serialized;

const KINDS: [Kind; 2] = [Kind::Activity, Kind::Event];

impl Worker {
    /// Holds serialized items in memory, within the retry buffer, as taken
    /// at `now`: the retry buffer holds the backlog and what requests in
    /// flight or waiting to be tried again hold, so that however many are
    /// in flight, memory stays within it.
    pub(super) fn keep(
        &mut self,
        items: impl IntoIterator<Item = (Kind, Serialized)>,
        now: Instant,
    ) {
        let limit = match self.phase {
            Phase::Running => (self.settings.retry_buffer).saturating_sub(self.delivery.held()),
            Phase::Stopping { .. } => usize::MAX,
        };
        for (kind, item) in items {
            if let Some(seq) = self.backlog.push(kind, item, now, limit) {
                self.shared.evicted(std::iter::once(seq));
            }
        }
    }

    pub(super) fn spool_usable(&self, now: Instant) -> bool {
        self.spool.as_ref().is_some_and(|s| s.usable(now))
    }

    /// Writes what waits for the spool, syncs it when due, and takes back
    /// into memory what a disk error left unwritten.
    pub(super) fn write_spool(&mut self, now: Instant) {
        let Some(spool) = &mut self.spool else { return };
        spool.tick(now);
        if let Err(back) = spool.flush(now) {
            self.keep(back, now);
        }
    }

    /// After an answer: acknowledges in the spool what came from it, and
    /// while jKool is down moves what waits in memory there.
    pub(super) fn answered(&mut self) {
        let Some(spool) = &mut self.spool else { return };
        for (chunk, count) in self.delivery.acks.drain(..) {
            spool.ack(chunk, count);
        }
        let now = Instant::now();
        if self.delivery.is_down() && spool.usable(now) {
            // In order, not behind newer items of its kind already there:
            // it would arrive after them. It waits in memory instead (at
            // most a body: the backlog went to disk before them).
            let ordered = self.delivery.ordered();
            let kinds = KINDS.map(|kind| (!ordered || !spool.has(kind)).then_some(kind));
            let groups = self
                .delivery
                .take_unspooled(|kind| kinds.contains(&Some(kind)));
            self.spill(groups, kinds.into_iter().flatten(), now);
        }
    }

    /// In order, before the first item of `kind` goes to disk: the older
    /// ones waiting in memory go first.
    pub(super) fn spill_older(&mut self, kind: Kind, now: Instant) {
        let first = self.spool.as_ref().is_some_and(|s| !s.has(kind));
        if first && self.delivery.ordered() && self.backlog.kind_len(kind) > 0 {
            self.spill(Vec::new(), std::iter::once(kind), now);
        }
    }

    /// Moves `groups`, then the backlog of `kinds`, to the spool, oldest
    /// first.
    pub(super) fn spill(
        &mut self,
        groups: Vec<Group>,
        kinds: impl Iterator<Item = Kind>,
        now: Instant,
    ) {
        let Some(spool) = &mut self.spool else { return };
        let mut back = Vec::new();
        let from_groups = groups.into_iter().filter(|g| g.chunk.is_none());
        let items = from_groups
            .flat_map(|g| g.items.into_iter().map(move |item| (g.kind, item)))
            .collect::<Vec<_>>();
        let backlog = kinds.map(|kind| {
            let all = self.backlog.kind_len(kind);
            (kind, self.backlog.take(kind, all, usize::MAX))
        });
        let backlog = backlog.collect::<Vec<_>>();
        let backlog = backlog
            .into_iter()
            .flat_map(|(kind, items)| items.into_iter().map(move |item| (kind, item)));
        for (kind, item) in items.into_iter().chain(backlog) {
            match back.is_empty() {
                true => match spool.append(kind, &item) {
                    Ok(_) => {}
                    Err(items) => back = items,
                },
                false => back.push((kind, item)),
            }
        }
        self.keep(back, now);
    }
}
