//! The background task: drains the queue into batches by count and by age,
//! serializes them, and hands bodies to the transport.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::handle::{Command, Shared};
use crate::model::{Context, Item, Kind};
use crate::transport::{Outcome, Transport};

/// How items are grouped into request bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFormat {
    /// A JSON array of items of one kind per POST.
    Array,
    /// One JSON object per POST, newline-terminated, as JESL sends.
    Object,
}

/// Everything the background task owns.
#[derive(Debug)]
pub(crate) struct Worker {
    pub items: mpsc::Receiver<Item>,
    pub control: mpsc::UnboundedReceiver<Command>,
    pub shared: Arc<Shared>,
    pub transport: Transport,
    pub context: Context,
    pub batch_size: usize,
    pub flush_interval: Duration,
    pub format: BodyFormat,
}

/// Items waiting to be sent, one batch per kind.
#[derive(Debug, Default)]
struct Pending {
    events: Vec<Item>,
    activities: Vec<Item>,
    /// When the oldest pending item must be sent by.
    deadline: Option<Instant>,
}

impl Worker {
    /// Runs until shut down, or until the layer and every handle are gone;
    /// then sends what is left and marks the pipeline stopped.
    pub async fn run(mut self) {
        let mut pending = Pending::default();
        loop {
            let deadline = pending.deadline;
            tokio::select! {
                biased;
                command = self.control.recv() => match command {
                    Some(Command::Flush) => {
                        self.drain(&mut pending).await;
                        self.send_all(&mut pending).await;
                    }
                    Some(Command::Shutdown) | None => break,
                },
                item = self.items.recv() => match item {
                    Some(item) => self.push(&mut pending, item).await,
                    None => break,
                },
                () = sleep_until(deadline), if deadline.is_some() => {
                    self.send_all(&mut pending).await;
                }
            }
        }
        // Refuse new items (the layer counts them as dropped), then deliver
        // everything already accepted.
        self.items.close();
        self.drain(&mut pending).await;
        self.send_all(&mut pending).await;
        self.shared.stop();
    }

    /// Takes every item already in the queue without waiting for more.
    async fn drain(&mut self, pending: &mut Pending) {
        while let Ok(item) = self.items.try_recv() {
            self.push(pending, item).await;
        }
    }

    async fn push(&mut self, pending: &mut Pending, item: Item) {
        let kind = item.kind();
        if pending.deadline.is_none() {
            pending.deadline = Some(Instant::now() + self.flush_interval);
        }
        let batch = pending.batch(kind);
        batch.push(item);
        if batch.len() >= self.batch_size {
            let batch = std::mem::take(batch);
            self.send(kind, batch).await;
            if pending.is_empty() {
                pending.deadline = None;
            }
        }
    }

    async fn send_all(&mut self, pending: &mut Pending) {
        for kind in [Kind::Activity, Kind::Event] {
            let batch = std::mem::take(pending.batch(kind));
            if !batch.is_empty() {
                self.send(kind, batch).await;
            }
        }
        pending.deadline = None;
    }

    /// Serializes and posts one batch, and records what became of it.
    async fn send(&mut self, kind: Kind, batch: Vec<Item>) {
        let (bodies, unserializable) = self.bodies(&batch);
        drop(batch);
        self.shared.finish(0, unserializable);
        for (body, count) in bodies {
            match self.transport.post(kind, body, count).await {
                Outcome::Accepted => self.shared.finish(count as u64, 0),
                Outcome::Rejected => self.shared.finish(0, count as u64),
            }
        }
    }

    /// The request bodies for a batch, each with its item count, and the
    /// number of items that could not be serialized.
    fn bodies(&self, batch: &[Item]) -> (Vec<(Vec<u8>, usize)>, u64) {
        let mut bodies = Vec::new();
        let mut unserializable = 0;
        let mut array = Vec::new();
        let mut in_array = 0;
        for item in batch {
            match self.format {
                BodyFormat::Array => {
                    let mark = array.len();
                    array.push(if in_array == 0 { b'[' } else { b',' });
                    if item.write_json(&self.context, &mut array).is_ok() {
                        in_array += 1;
                    } else {
                        array.truncate(mark);
                        unserializable += 1;
                    }
                }
                BodyFormat::Object => {
                    let mut body = Vec::new();
                    if item.write_json(&self.context, &mut body).is_ok() {
                        // Newline-terminated, as JESL sends.
                        body.push(b'\n');
                        bodies.push((body, 1));
                    } else {
                        unserializable += 1;
                    }
                }
            }
        }
        if in_array > 0 {
            array.push(b']');
            bodies.push((array, in_array));
        }
        (bodies, unserializable)
    }
}

impl Pending {
    fn batch(&mut self, kind: Kind) -> &mut Vec<Item> {
        match kind {
            Kind::Event => &mut self.events,
            Kind::Activity => &mut self.activities,
        }
    }

    fn is_empty(&self) -> bool {
        self.events.is_empty() && self.activities.is_empty()
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
