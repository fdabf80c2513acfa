//! Renders received jKool items as an activity tree for a person to read.

use std::collections::HashMap;

use serde_json::Value;

pub(crate) mod line;

/// Deeper items are summarised in one line: the output stays readable and
/// its size stays linear in the number of items.
const MAX_DEPTH: usize = 64;

/// Renders jKool items as an indented activity tree, one line per item.
///
/// An item nests under the item whose `tracking-id` its `parent-id` names;
/// items without a parent, or whose parent was never received, are roots.
/// Siblings are ordered by `start-time-usec` (else `time-usec`), then by
/// arrival. Activities show operation, duration, status and correlators;
/// events show severity, message and properties; snapshots (embedded or
/// posted alone) show their name, category and properties. Odd input (missing
/// keys, wrong types, `parent-id` cycles) is rendered as well as it can be,
/// never a panic.
///
/// ```
/// use serde_json::json;
/// use tracing_jkool_collector::render_tree;
///
/// let items = [
///     json!({"type": "EVENT", "tracking-id": "e", "parent-id": "a", "severity": "INFO",
///            "msg-text": "paid", "properties": [{"name": "amount", "type": "long", "value": "42"}]}),
///     json!({"type": "ACTIVITY", "tracking-id": "a", "operation": "checkout",
///            "elapsed-time-usec": 1234, "status": "END"}),
/// ];
/// assert_eq!(
///     render_tree(&items),
///     "▶ checkout  1.234 ms  END\n└─ • INFO  paid  amount=42\n"
/// );
/// ```
///
/// # As a snapshot
///
/// The tree is meant to be compared whole, with a string or a stored
/// snapshot (`insta::assert_snapshot!(render_tree(&items))`). For items
/// that a program sent, two things change from run to run: the durations
/// and the trace ids (a correlator of 32 hex digits on every item of a
/// trace), and so do properties that are durations or times (value type
/// `age.*` or `timestamp`, such as a span's `busy` and `idle`).
/// [`Received::stable_tree`](crate::Received::stable_tree) leaves the
/// durations out and shows each trace id as `<trace-id>` and each such
/// property as `busy=<age.usec>`, so that the same code always renders the
/// same text. Siblings are ordered by start time, then arrival, so the
/// stable tree of concurrent code can still differ in the order of
/// siblings that started in the same microsecond.
pub fn render_tree(items: &[Value]) -> String {
    render(items, false)
}

/// [`render_tree`], with durations left out and trace ids as `<trace-id>`
/// when `stable`.
pub(crate) fn render(items: &[Value], stable: bool) -> String {
    if items.is_empty() {
        return "(no items)\n".to_string();
    }
    let mut forest = Forest::new(items);
    forest.stable = stable;
    let mut visited = vec![false; items.len()];
    let mut lines = Vec::new();
    for &root in &forest.roots {
        forest.render(root, false, &mut visited, &mut lines);
    }
    // Items in a parent-id cycle (and everything below them) are reachable
    // from no root; start each cycle at one of its members.
    for i in 0..items.len() {
        if !visited[i] {
            let start = forest.on_cycle_above(i);
            forest.render(start, true, &mut visited, &mut lines);
        }
    }
    lines.push(String::new());
    lines.join("\n")
}

/// Items linked by `parent-id`, with children in display order; also what
/// [`Received`](crate::Received) looks children and parents up in.
pub(crate) struct Forest<'a> {
    items: &'a [Value],
    /// The received item each item's `parent-id` names.
    pub(crate) parent: Vec<Option<usize>>,
    /// Each item's children, earliest first.
    pub(crate) children: Vec<Vec<usize>>,
    roots: Vec<usize>,
    /// Lines without durations or trace ids.
    stable: bool,
}

enum Entry<'a> {
    Item(usize),
    Snapshot(&'a Value),
}

struct Frame<'a> {
    entry: Entry<'a>,
    /// Drawn before this entry's own line.
    lead: String,
    /// Drawn before each of its children's lines.
    indent: String,
    depth: usize,
}

impl<'a> Forest<'a> {
    pub(crate) fn new(items: &'a [Value]) -> Self {
        let mut by_id: HashMap<&str, usize> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            if let Some(id) = line::text(item, "tracking-id") {
                // A duplicate id keeps pointing at the first item.
                by_id.entry(id).or_insert(i);
            }
        }
        let parent: Vec<Option<usize>> = items
            .iter()
            .map(|item| line::parent_id(item).and_then(|id| by_id.get(id).copied()))
            .collect();
        let mut children = vec![Vec::new(); items.len()];
        let mut roots = Vec::new();
        for (i, p) in parent.iter().enumerate() {
            match p {
                Some(p) => children[*p].push(i),
                None => roots.push(i),
            }
        }
        // Stable sorts: items without a time keep their arrival order, last.
        let key = |i: &usize| line::start_time(&items[*i]).unwrap_or(i64::MAX);
        roots.sort_by_key(key);
        for list in &mut children {
            list.sort_by_key(key);
        }
        Forest {
            items,
            parent,
            children,
            roots,
            stable: false,
        }
    }

    /// Walks up from `i`; an item that is reachable from no root has only
    /// known parents, so after `len` steps the walk is inside a cycle.
    fn on_cycle_above(&self, i: usize) -> usize {
        let mut at = i;
        for _ in 0..self.items.len() {
            match self.parent[at] {
                Some(p) => at = p,
                None => break,
            }
        }
        at
    }

    /// Renders the subtree at `root` without recursion, so a deep chain
    /// cannot overflow the stack, and marking what it shows as visited, so a
    /// cycle is drawn once and then pointed back to.
    fn render(&self, root: usize, cyclic: bool, visited: &mut [bool], out: &mut Vec<String>) {
        let mut stack = vec![Frame {
            entry: Entry::Item(root),
            lead: String::new(),
            indent: String::new(),
            depth: 0,
        }];
        while let Some(frame) = stack.pop() {
            let i = match frame.entry {
                Entry::Snapshot(snapshot) => {
                    out.push(format!(
                        "{}{}",
                        frame.lead,
                        line::snapshot(snapshot, self.stable)
                    ));
                    continue;
                }
                Entry::Item(i) => i,
            };
            if visited[i] {
                let back = line::short(&self.items[i]);
                out.push(format!("{}↻ back to {back} (parent-id cycle)", frame.lead));
                continue;
            }
            if frame.depth > MAX_DEPTH {
                let hidden = self.mark_subtree(i, visited);
                out.push(format!(
                    "{}… {hidden} more item(s) nested deeper than {MAX_DEPTH} levels",
                    frame.lead
                ));
                continue;
            }
            visited[i] = true;
            let mut text = format!("{}{}", frame.lead, line::item(&self.items[i], self.stable));
            if self.parent[i].is_none() {
                if let Some(missing) = line::parent_id(&self.items[i]) {
                    text.push_str(&format!("  (parent {missing} not received)"));
                }
            }
            if cyclic && frame.depth == 0 {
                text.push_str("  (in a parent-id cycle)");
            }
            out.push(text);

            let kids: Vec<Entry<'a>> = line::list(&self.items[i], "snapshots")
                .map(Entry::Snapshot)
                .chain(self.children[i].iter().map(|&c| Entry::Item(c)))
                .collect();
            let last = kids.len().saturating_sub(1);
            for (k, entry) in kids.into_iter().enumerate().rev() {
                let (branch, through) = if k == last {
                    ("└─ ", "   ")
                } else {
                    ("├─ ", "│  ")
                };
                stack.push(Frame {
                    entry,
                    lead: format!("{}{branch}", frame.indent),
                    indent: format!("{}{through}", frame.indent),
                    depth: frame.depth + 1,
                });
            }
        }
    }

    /// Marks the subtree at `i` visited without drawing it; returns how many
    /// items it held.
    fn mark_subtree(&self, i: usize, visited: &mut [bool]) -> usize {
        let mut count = 0;
        let mut stack = vec![i];
        while let Some(i) = stack.pop() {
            if !visited[i] {
                visited[i] = true;
                count += 1;
                stack.extend(&self.children[i]);
            }
        }
        count
    }
}

#[cfg(test)]
mod tests;
