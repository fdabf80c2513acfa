//! Indexes over the received items, kept up to date as items arrive, so the
//! web view's requests never re-read every item: tracking id → item,
//! parent id → children, the live roots with their trees' totals, trace-id
//! correlators → items, and the sources seen.
//!
//! An item is a root while it has no `parent-id` or its parent has not
//! arrived. Spans close inside out, so a parent usually arrives after its
//! children: when it does, the children it adopts stop being roots and
//! their totals move to the parent's tree. Trees are joined with a
//! union-find, so finding an item's root stays cheap however deep it is.
//!
//! A tree's errors count failures: an `EXCEPTION` activity, and an event at
//! `ERROR` or above, unless that event's parent is an `EXCEPTION` activity
//! (the event tells why its activity failed: one failure, not two).

mod info;
mod query;

use std::collections::{BTreeMap, BTreeSet, HashMap};

pub(crate) use info::severity_rank;
pub(crate) use info::Info;
pub(crate) use query::{RootsQuery, TraceQuery};

/// At most this many trace ids are remembered per tree.
const MAX_TRACES_PER_TREE: usize = 8;

/// One item: what was read from it, and its received parent.
#[derive(Debug)]
struct Entry {
    info: Info,
    /// The item its `parent-id` names, once that has arrived.
    parent: Option<usize>,
}

/// Totals of one root's tree.
#[derive(Debug, Clone)]
struct Tree {
    items: usize,
    errors: usize,
    /// Highest severity rank in the tree.
    severity: u8,
    /// The cursor value at the tree's last change.
    updated: usize,
    /// Trace-id correlators carried by items of the tree.
    traces: Vec<String>,
}

impl Tree {
    fn of(info: &Info, updated: usize) -> Tree {
        let mut traces: Vec<String> = Vec::new();
        for id in info.trace_ids() {
            if !traces.iter().any(|t| t == id) && traces.len() < MAX_TRACES_PER_TREE {
                traces.push(id.to_string());
            }
        }
        Tree {
            items: 1,
            errors: usize::from(info.error),
            severity: info.severity,
            updated,
            traces,
        }
    }

    fn absorb(&mut self, other: Tree) {
        self.items += other.items;
        self.errors += other.errors;
        self.severity = self.severity.max(other.severity);
        self.updated = self.updated.max(other.updated);
        for id in other.traces {
            if !self.traces.contains(&id) && self.traces.len() < MAX_TRACES_PER_TREE {
                self.traces.push(id);
            }
        }
    }
}

/// The indexes; item `i` here is item `i` of the collector's item list.
#[derive(Debug, Default)]
pub(crate) struct Index {
    entries: Vec<Entry>,
    /// The first item with each tracking id.
    by_id: HashMap<String, usize>,
    /// Items by the `parent-id` they name, whether it arrived or not.
    children: HashMap<String, Vec<usize>>,
    /// Union-find links: following them from an item leads to its root.
    link: Vec<usize>,
    /// Live roots by item number (arrival order), with their trees' totals.
    roots: BTreeMap<usize, Tree>,
    /// Items by the trace-id correlators they carry.
    traces: HashMap<String, Vec<usize>>,
    /// Every source (`APPL`) seen.
    sources: BTreeSet<String>,
}

/// Whether `child`'s error is `parent`'s failure told again: an error event
/// directly under an `EXCEPTION` activity.
fn explains(parent: &Info, child: &Info) -> bool {
    parent.exception && child.error && !child.exception && child.kind != "ACTIVITY"
}

impl Index {
    /// Items indexed so far; also the cursor of the web view's polling.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Indexes the next item.
    pub(crate) fn add(&mut self, info: Info) {
        let i = self.entries.len();
        let cursor = i + 1;
        self.link.push(i);
        let mut tree = Tree::of(&info, cursor);
        let parent = info
            .parent
            .as_deref()
            .and_then(|p| self.by_id.get(p).copied());
        if parent.is_some_and(|p| explains(&self.entries[p].info, &info)) {
            tree.errors -= 1;
        }
        for id in info.trace_ids() {
            self.traces.entry(id.to_string()).or_default().push(i);
        }
        if !info.source.is_empty() && !self.sources.contains(&info.source) {
            self.sources.insert(info.source.clone());
        }
        if let Some(p) = &info.parent {
            self.children.entry(p.clone()).or_default().push(i);
        }
        let first_of_id = match &info.id {
            Some(id) if !self.by_id.contains_key(id) => {
                self.by_id.insert(id.clone(), i);
                Some(id.clone())
            }
            _ => None,
        };
        self.entries.push(Entry { info, parent });
        let root = match parent {
            Some(p) => {
                let root = self.find(p);
                self.link[i] = root;
                if let Some(totals) = self.roots.get_mut(&root) {
                    totals.absorb(tree);
                }
                root
            }
            None => {
                self.roots.insert(i, tree);
                i
            }
        };
        // Children that arrived first were roots waiting for this parent.
        // One that is this item's own root closes a parent-id cycle: it
        // stays a root.
        let waiting = first_of_id
            .and_then(|id| self.children.get(&id).cloned())
            .unwrap_or_default();
        for child in waiting {
            if child == root || self.entries[child].parent.is_some() {
                continue;
            }
            if let Some(mut adopted) = self.roots.remove(&child) {
                if explains(&self.entries[i].info, &self.entries[child].info) {
                    adopted.errors = adopted.errors.saturating_sub(1);
                }
                self.link[child] = root;
                self.entries[child].parent = Some(i);
                if let Some(totals) = self.roots.get_mut(&root) {
                    totals.absorb(adopted);
                }
            }
        }
        if let Some(totals) = self.roots.get_mut(&root) {
            totals.updated = cursor;
        }
    }

    /// The root of item `i`'s tree, shortening the links on the way.
    fn find(&mut self, i: usize) -> usize {
        let mut root = i;
        while self.link[root] != root {
            root = self.link[root];
        }
        let mut at = i;
        while self.link[at] != root {
            let next = self.link[at];
            self.link[at] = root;
            at = next;
        }
        root
    }

    /// The item named by a tracking id, or by `#<n>` for the `n`th item
    /// (for items sent without one).
    fn resolve(&self, reference: &str) -> Option<usize> {
        if let Some(&i) = self.by_id.get(reference) {
            return Some(i);
        }
        let n: usize = reference.strip_prefix('#')?.parse().ok()?;
        (n < self.entries.len()).then_some(n)
    }

    /// The items whose parent is item `i`, earliest first.
    fn children_of(&self, i: usize) -> Vec<usize> {
        let Some(id) = &self.entries[i].info.id else {
            return Vec::new();
        };
        let mut kids: Vec<usize> = self
            .children
            .get(id)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&c| self.entries[c].parent == Some(i))
            .collect();
        kids.sort_by_key(|&c| (self.entries[c].info.start.unwrap_or(i64::MAX), c));
        kids
    }
}

#[cfg(test)]
mod tests;
