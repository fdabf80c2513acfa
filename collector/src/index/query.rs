//! The web view's questions to the indexes, answered as JSON.

use serde_json::{json, Value};

use super::info::severity_name;
use super::{Index, Tree};
use crate::body::RawItem;

/// Roots per page, at most.
pub(crate) const MAX_PAGE: usize = 500;
/// Items of one trace view, at most.
pub(crate) const MAX_TRACE_ITEMS: usize = 20_000;
/// Items looked at when joining roots by trace id, at most.
const MAX_JOIN_SCAN: usize = 20_000;
/// Roots joined into one view, at most (the viewed root included).
const MAX_JOINED: usize = 50;

/// `GET /api/roots`: which roots, which page, and since when.
#[derive(Debug, Clone)]
pub(crate) struct RootsQuery {
    /// Lower-cased text that a root's name, ids, correlators or source
    /// must contain; empty for any.
    pub(crate) text: String,
    /// Lowest severity rank a root's tree must reach.
    pub(crate) severity: u8,
    /// Only roots of this source (`APPL`), when set.
    pub(crate) source: Option<String>,
    pub(crate) offset: usize,
    pub(crate) limit: usize,
    /// The cursor of the caller's last answer: only roots changed since are
    /// sent in full.
    pub(crate) after: Option<usize>,
    /// An item whose tree (and joined trees) the caller shows.
    pub(crate) watch: Option<String>,
}

impl Default for RootsQuery {
    fn default() -> Self {
        RootsQuery {
            text: String::new(),
            severity: 0,
            source: None,
            offset: 0,
            limit: 100,
            after: None,
            watch: None,
        }
    }
}

/// `GET /api/trace/<id>`: an item's tree and the trees joined to it.
#[derive(Debug, Clone)]
pub(crate) struct TraceQuery {
    pub(crate) reference: String,
    pub(crate) limit: usize,
}

impl Index {
    /// The tracking id of item `i`, or `#i` when it has none.
    fn reference(&self, i: usize) -> String {
        self.entries[i]
            .info
            .id
            .clone()
            .unwrap_or_else(|| format!("#{i}"))
    }

    /// The `parent-id` of item `i` when no item with that tracking id was
    /// received (an orphan); `None` without one, or when it names an item
    /// that arrived (a root only by a parent-id cycle).
    fn missing_parent(&self, i: usize) -> Option<&str> {
        let parent = self.entries[i].info.parent.as_deref()?;
        (!self.by_id.contains_key(parent)).then_some(parent)
    }

    fn matches(&self, key: usize, tree: &Tree, query: &RootsQuery) -> bool {
        let info = &self.entries[key].info;
        tree.severity >= query.severity
            && query.source.as_ref().is_none_or(|s| *s == info.source)
            && (query.text.is_empty() || info.mentions(&query.text))
    }

    fn summary(&self, key: usize, tree: &Tree) -> Value {
        let info = &self.entries[key].info;
        json!({
            "id": self.reference(key),
            "key": key,
            "type": info.kind,
            "name": info.name,
            "target": info.target,
            "status": info.status,
            "severity": (info.kind != "ACTIVITY" || info.severity > 0)
                .then(|| severity_name(info.severity)),
            "start": info.start,
            "duration": info.duration,
            "items": tree.items,
            "errors": tree.errors,
            "max_severity": severity_name(tree.severity),
            "source": info.source,
            "fqn": info.fqn,
            "corrids": info.corrids,
            "traces": tree.traces,
            "missing_parent": self.missing_parent(key),
            "updated": tree.updated,
        })
    }

    /// A page of the roots that match, newest first.
    pub(crate) fn roots(&mut self, query: &RootsQuery) -> Value {
        let cursor = self.len();
        let watch = query.watch.as_deref().and_then(|w| self.watch(w));
        if query.after == Some(cursor) {
            return json!({ "cursor": cursor, "unchanged": true, "watch": watch });
        }
        let limit = query.limit.clamp(1, MAX_PAGE);
        let mut total = 0usize;
        let mut ids = Vec::new();
        let mut rows = Vec::new();
        for (&key, tree) in self.roots.iter().rev() {
            if !self.matches(key, tree, query) {
                continue;
            }
            if total >= query.offset && total - query.offset < limit {
                ids.push(Value::String(self.reference(key)));
                if query.after.is_none_or(|after| tree.updated > after) {
                    rows.push(self.summary(key, tree));
                }
            }
            total += 1;
        }
        json!({
            "cursor": cursor,
            "received": cursor,
            "roots_total": self.roots.len(),
            "total": total,
            "offset": query.offset,
            "limit": limit,
            "ids": ids,
            "roots": rows,
            "sources": self.sources,
            "watch": watch,
        })
    }

    /// The root now holding item `reference`, and the latest change among
    /// it and the roots joined to it.
    fn watch(&mut self, reference: &str) -> Option<Value> {
        let i = self.resolve(reference)?;
        let root = self.find(i);
        let joined = self.joined(root);
        let updated = joined
            .iter()
            .filter_map(|r| self.roots.get(r))
            .map(|t| t.updated)
            .max();
        Some(json!({ "root": self.reference(root), "updated": updated, "trees": joined.len() }))
    }

    /// `root` first, then the other roots sharing one of its tree's
    /// trace-id correlators, earliest first.
    fn joined(&mut self, root: usize) -> Vec<usize> {
        let traces = self
            .roots
            .get(&root)
            .map(|t| t.traces.clone())
            .unwrap_or_default();
        let mut found = vec![root];
        let mut scanned = 0;
        'traces: for trace in &traces {
            let carriers = self.traces.get(trace).cloned().unwrap_or_default();
            for item in carriers {
                scanned += 1;
                if scanned > MAX_JOIN_SCAN || found.len() >= MAX_JOINED {
                    break 'traces;
                }
                let other = self.find(item);
                if !found.contains(&other) {
                    found.push(other);
                }
            }
        }
        let others = &mut found[1..];
        others.sort_by_key(|&r| (self.entries[r].info.start.unwrap_or(i64::MAX), r));
        found
    }

    /// Item `reference`'s tree, and the trees joined to it by a trace id,
    /// each walked depth first (children earliest first), `limit` items in
    /// all at most. `None` when no such item arrived.
    pub(crate) fn trace(&mut self, query: &TraceQuery, raw: &[RawItem]) -> Option<Value> {
        let focus = self.resolve(&query.reference)?;
        let root = self.find(focus);
        let limit = query.limit.clamp(1, MAX_TRACE_ITEMS);
        let joined = self.joined(root);
        let mut groups = Vec::new();
        let mut items = Vec::new();
        let mut total = 0;
        for (g, &top) in joined.iter().enumerate() {
            let tree = self.roots.get(&top).cloned();
            let size = tree.as_ref().map_or(1, |t| t.items);
            total += size;
            let before = items.len();
            let mut stack = vec![(top, 0usize)];
            // Bounded: the parent links form a forest, and each step emits
            // one item.
            while let Some((i, depth)) = stack.pop() {
                if items.len() >= limit {
                    break;
                }
                let item: Value = raw
                    .get(i)
                    .and_then(|r| serde_json::from_str(r.get()).ok())
                    .unwrap_or(Value::Null);
                items.push(json!({
                    "index": i,
                    "ref": self.reference(i),
                    "depth": depth,
                    "parent": self.entries[i].parent.map(|p| self.reference(p)),
                    "group": g,
                    "item": item,
                }));
                for child in self.children_of(i).into_iter().rev() {
                    stack.push((child, depth + 1));
                }
            }
            let info = &self.entries[top].info;
            groups.push(json!({
                "root": self.reference(top),
                "name": info.name,
                "target": info.target,
                "source": info.source,
                "fqn": info.fqn,
                "items": size,
                "shown": items.len() - before,
                "errors": tree.as_ref().map_or(0, |t| t.errors),
                "joined": g > 0,
                "missing_parent": self.missing_parent(top),
            }));
        }
        Some(json!({
            "ref": query.reference,
            "focus": self.reference(focus),
            "root": self.reference(root),
            "cursor": self.len(),
            "traces": self.roots.get(&root).map(|t| t.traces.clone()).unwrap_or_default(),
            "total": total,
            "shown": items.len(),
            "limit": limit,
            "truncated": items.len() < total,
            "groups": groups,
            "items": items,
        }))
    }
}
