//! The groups not yet done with, by id (ids grow, so the map's order is
//! their age), with what a turn of the loop asks of them kept at hand: the
//! earliest retry, and whether any waits for jKool to come back. A turn
//! costs a lookup, not a scan, however many requests are in flight.

use std::collections::{BTreeMap, BTreeSet};

use tokio::time::Instant;

use crate::delivery::group::Group;

/// Groups in flight or waiting to be tried again.
#[derive(Debug, Default)]
pub(super) struct Groups {
    by_id: BTreeMap<u64, Group>,
    /// `(retry_at, id)` of every group that waits to be tried again.
    retries: BTreeSet<(Instant, u64)>,
    /// How many groups wait for jKool to answer again.
    waiting_for_jkool: usize,
    /// Items held in memory (not read from the spool) by all groups.
    held: usize,
}

impl Groups {
    pub(super) fn insert(&mut self, id: u64, group: Group) {
        if let Some(at) = group.retry_at {
            self.retries.insert((at, id));
        }
        self.waiting_for_jkool += usize::from(group.waits_for_jkool);
        self.held += held(&group);
        if let Some(old) = self.by_id.insert(id, group) {
            self.forget(id, &old);
        }
    }

    pub(super) fn remove(&mut self, id: u64) -> Option<Group> {
        let group = self.by_id.remove(&id)?;
        self.forget(id, &group);
        Some(group)
    }

    fn forget(&mut self, id: u64, group: &Group) {
        if let Some(at) = group.retry_at {
            self.retries.remove(&(at, id));
        }
        self.waiting_for_jkool -= usize::from(group.waits_for_jkool);
        self.held -= held(group);
    }

    /// Items held in memory by all groups, in flight or waiting.
    pub(super) fn held(&self) -> usize {
        self.held
    }

    pub(super) fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub(super) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Every group, oldest first.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Group> {
        self.by_id.values()
    }

    /// The group whose retry is due first, if one is due by `now`.
    pub(super) fn due(&self, now: Instant) -> Option<u64> {
        let (at, id) = self.retries.first()?;
        (*at <= now).then_some(*id)
    }

    /// The earliest retry waiting.
    pub(super) fn next_retry(&self) -> Option<Instant> {
        self.retries.first().map(|(at, _)| *at)
    }

    /// Whether a group waits for jKool to answer again.
    pub(super) fn any_waiting_for_jkool(&self) -> bool {
        self.waiting_for_jkool > 0
    }

    /// jKool answered again: what waited for it is tried now, or when
    /// jKool asked (`Retry-After`) if that is later.
    pub(super) fn retry_waiting_now(&mut self, now: Instant) {
        if !self.any_waiting_for_jkool() {
            return;
        }
        let ids: Vec<u64> = (self.by_id.iter())
            .filter(|(_, g)| g.waits_for_jkool && g.retry_at.is_some())
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(mut group) = self.remove(id) {
                group.retry_at = Some(group.not_before.map_or(now, |at| at.max(now)));
                self.insert(id, group);
            }
        }
    }

    /// Removes the groups `keep` says, oldest first.
    pub(super) fn take_where(&mut self, keep: impl Fn(&Group) -> bool) -> Vec<Group> {
        let ids: Vec<u64> = (self.by_id.iter())
            .filter(|(_, g)| keep(g))
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter().filter_map(|id| self.remove(id)).collect()
    }

    /// Removes every group, oldest first.
    pub(super) fn take_all(&mut self) -> Vec<Group> {
        self.retries.clear();
        self.waiting_for_jkool = 0;
        self.held = 0;
        std::mem::take(&mut self.by_id).into_values().collect()
    }
}

/// The items of `group` held in memory: none when it was read from the
/// spool, where they stay until acknowledged.
fn held(group: &Group) -> usize {
    match group.chunk {
        Some(_) => 0,
        None => group.len(),
    }
}
