//! One kept-alive HTTP/1.1 connection, as a task of its own: requests are
//! written back to back as they come (many per `write`), without waiting
//! for answers, and the answers are read in order, each one the answer to
//! the oldest request not yet answered. When the connection ends, every
//! request it did not answer is answered "unavailable", so that delivery
//! sends it again, as it does a request that failed.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Duration, Instant};

use super::answer::{self, Parsed};
use super::{Target, FIRST_WINDOW, WINDOW};
use crate::transport::{classify_status, Outcome};

/// The most bytes waiting to be written on a connection.
pub(crate) const MAX_UNWRITTEN: usize = 64 * 1024;

/// Answers whose round trip grows with the requests ahead of them, in a
/// row, before a connection is taken to answer one request at a time.
const SERIAL_VOTES: u32 = 3;

/// The shortest round trip that may show a server answering one request
/// at a time: below it, the server's own time per request is too short
/// for more connections to help, and one pipelined connection costs less.
const SERIAL_MIN_RTT: Duration = Duration::from_micros(500);

/// A request for the connection to write.
#[derive(Debug)]
pub(crate) struct Job {
    /// Whose request it is, given back with the answer.
    pub id: u64,
    /// The request line and headers, up to `content-length: `.
    pub head: Arc<[u8]>,
    pub body: Bytes,
}

/// The answer to request `id`, and how long the server took over it: from
/// its write, or from the answer before it when that came later, so that
/// requests waiting their turn behind others on a server that answers one
/// at a time do not read as a longer round trip.
#[derive(Debug)]
pub(crate) struct Answered {
    pub id: u64,
    pub outcome: Outcome,
    pub rtt: Duration,
}

/// What the connection and its users share.
#[derive(Debug)]
pub(crate) struct State {
    /// Requests given to the connection and not yet answered.
    pub unanswered: AtomicUsize,
    /// The connection ended: it takes no more requests.
    pub closed: AtomicBool,
    /// How many requests it may have written and not answered, while the
    /// server pipelines.
    window: AtomicUsize,
}

impl Default for State {
    fn default() -> Self {
        State {
            unanswered: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            window: AtomicUsize::new(FIRST_WINDOW),
        }
    }
}

impl State {
    /// How many requests the connection may have unanswered: one when the
    /// server answers one at a time, all of [`WINDOW`] once it showed that
    /// it pipelines, else what this connection's answers widened it to.
    pub(crate) fn window(&self, target: &Target) -> usize {
        if target.is_serial() {
            1
        } else if target.pipelines.load(Ordering::Relaxed) {
            WINDOW
        } else {
            self.window.load(Ordering::Relaxed)
        }
    }
}

/// A request written, waiting for its answer.
struct Written {
    id: u64,
    at: Instant,
    /// Requests written before it and not answered then.
    ahead: usize,
}

/// What a connection has written and not yet had answered.
struct Connection {
    target: Arc<Target>,
    state: Arc<State>,
    answers: mpsc::UnboundedSender<Answered>,
    written: VecDeque<Written>,
    /// The shortest round trip of a request with nothing ahead of it.
    fastest: Option<Duration>,
    votes: u32,
    last_answer: Option<Instant>,
    /// The server's time over each answer (see [`Answered`]), summed, and
    /// how many answers.
    served: Duration,
    answered: u32,
}

/// Runs one connection to `target` until it ends, taking requests from
/// `jobs` and giving their answers to `answers`.
pub(crate) async fn run(
    target: Arc<Target>,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    state: Arc<State>,
    answers: mpsc::UnboundedSender<Answered>,
) {
    let mut connection = Connection {
        target,
        state,
        answers,
        written: VecDeque::new(),
        fastest: None,
        votes: 0,
        last_answer: None,
        served: Duration::ZERO,
        answered: 0,
    };
    let why = connection.serve(&mut jobs).await;
    connection.end(&mut jobs, why);
}

impl Connection {
    /// Writes and reads until the connection ends; why it did, when it
    /// leaves requests unanswered.
    async fn serve(&mut self, jobs: &mut mpsc::UnboundedReceiver<Job>) -> String {
        let address = &self.target.address;
        let connect = TcpStream::connect(address.as_str());
        let stream = match tokio::time::timeout(self.target.connect_timeout, connect).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(err)) => return format!("could not connect: {err}"),
            Err(_) => {
                let after = self.target.connect_timeout;
                return format!("could not connect within {after:?}");
            }
        };
        let _ = stream.set_nodelay(true);
        let (mut read, mut write) = stream.into_split();
        let mut unwritten: Vec<u8> = Vec::with_capacity(MAX_UNWRITTEN);
        let mut from = 0;
        let mut answers = BytesMut::with_capacity(16 * 1024);
        let mut taking = true;
        // Armed for the oldest unanswered request's deadline, and checked
        // when it fires: one timer reset per timeout, not one per answer.
        let timeout = self.target.request_timeout;
        let timer = tokio::time::sleep(timeout);
        tokio::pin!(timer);
        let mut armed = false;
        loop {
            let window = self.state.window(&self.target);
            let room =
                taking && unwritten.len() - from < MAX_UNWRITTEN && self.written.len() < window;
            if let (false, Some(oldest)) = (armed, self.written.front()) {
                timer.as_mut().reset(oldest.at + timeout);
                armed = true;
            }
            tokio::select! {
                job = jobs.recv(), if room => match job {
                    Some(job) => {
                        self.add(job, &mut unwritten);
                        // What else waits, while it fits: one write for all.
                        while unwritten.len() - from < MAX_UNWRITTEN && self.written.len() < window {
                            let Ok(job) = jobs.try_recv() else { break };
                            self.add(job, &mut unwritten);
                        }
                    }
                    None if self.written.is_empty() => return String::new(),
                    None => taking = false,
                },
                wrote = write.write(&unwritten[from..]), if from < unwritten.len() => match wrote {
                    Ok(0) => return "the connection closed while writing".into(),
                    Ok(n) => {
                        from += n;
                        if from == unwritten.len() {
                            unwritten.clear();
                            from = 0;
                        }
                    }
                    Err(err) => return format!("could not write: {err}"),
                },
                read = read.read_buf(&mut answers) => match read {
                    Ok(0) if self.written.is_empty() => return String::new(),
                    Ok(0) => return "the connection closed".into(),
                    Ok(_) => {
                        if let Some(why) = self.answered(&mut answers) {
                            return why;
                        }
                        if !taking && self.written.is_empty() {
                            return String::new();
                        }
                    }
                    Err(err) => return format!("could not read: {err}"),
                },
                () = &mut timer, if armed => {
                    armed = false;
                    let now = Instant::now();
                    if self.written.front().is_some_and(|w| w.at + timeout <= now) {
                        return format!("no answer within {timeout:?}");
                    }
                }
            }
        }
    }

    /// Adds a request to what is to be written.
    fn add(&mut self, job: Job, unwritten: &mut Vec<u8>) {
        unwritten.extend_from_slice(&job.head);
        let mut length = itoa::Buffer::new();
        unwritten.extend_from_slice(length.format(job.body.len()).as_bytes());
        unwritten.extend_from_slice(b"\r\n\r\n");
        unwritten.extend_from_slice(&job.body);
        self.written.push_back(Written {
            id: job.id,
            at: Instant::now(),
            ahead: self.written.len(),
        });
    }

    /// Takes the whole answers at the front of `bytes`; why the connection
    /// must end, when it must.
    fn answered(&mut self, bytes: &mut BytesMut) -> Option<String> {
        loop {
            let answer = match answer::parse(bytes) {
                Parsed::Partial => return None,
                Parsed::Informational(len) => {
                    bytes.advance(len);
                    continue;
                }
                Parsed::Invalid(why) => {
                    self.target.say_once(&why);
                    return Some(why);
                }
                Parsed::Answer(answer) => answer,
            };
            bytes.advance(answer.len);
            let Some(written) = self.written.pop_front() else {
                let why = "an answer to no request".to_owned();
                self.target.say_once(&why);
                return Some(why);
            };
            let now = Instant::now();
            let turn = self
                .last_answer
                .map_or(written.at, |last| last.max(written.at));
            let took = now - turn;
            self.last_answer = Some(now);
            self.served += took;
            self.answered += 1;
            self.learn(&written, now - written.at);
            let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
            self.state.unanswered.fetch_sub(1, Ordering::Relaxed);
            let outcome = classify_status(status, answer.retry_after);
            self.answer(written.id, outcome, took);
            if answer.closes {
                self.target.serial("answers close the connection");
                return (!self.written.is_empty())
                    .then(|| "the server closed the connection".into());
            }
        }
    }

    /// Whether the answers tell that the server answers one request at a
    /// time: the round trip grows with the requests written ahead, the
    /// server's time per answer is long enough for more connections to
    /// help ([`SERIAL_MIN_RTT`]; a server that answers in microseconds
    /// whose answers come late because the machine is busy pipelines on),
    /// and no connection has shown pipelining already.
    /// An answer that came sooner than its turn shows the server
    /// pipelines, and widens the connection's window by one.
    fn learn(&mut self, written: &Written, rtt: Duration) {
        if written.ahead == 0 {
            self.fastest = Some(self.fastest.map_or(rtt, |f| f.min(rtt)));
            return;
        }
        let long_enough = |f: &Duration| *f >= SERIAL_MIN_RTT && written.ahead >= 2;
        let Some(fastest) = self.fastest.filter(long_enough) else {
            return;
        };
        let queued = fastest.mul_f64((written.ahead + 1) as f64 / 2.0);
        if rtt < queued {
            self.votes = 0;
            let window = (self.state.window.load(Ordering::Relaxed) + 1).min(WINDOW);
            self.state.window.store(window, Ordering::Relaxed);
            // Answers that widened a window to twice the first show that
            // the server pipelines: a round trip that grows on the network
            // later does not undo it, on any connection.
            if window >= 2 * FIRST_WINDOW {
                self.target.pipelines.store(true, Ordering::Relaxed);
            }
            return;
        }
        self.votes += 1;
        let per_answer = self.served / self.answered.max(1);
        let proven = self.target.pipelines.load(Ordering::Relaxed);
        if self.votes >= SERIAL_VOTES && per_answer >= SERIAL_MIN_RTT && !proven {
            self.target
                .serial("it answers one request at a time on a connection");
        }
    }

    /// The connection ended: every request it holds is answered
    /// "unavailable", and so is each one still waiting for it.
    fn end(&mut self, jobs: &mut mpsc::UnboundedReceiver<Job>, why: String) {
        self.state.closed.store(true, Ordering::Relaxed);
        jobs.close();
        let why = match why.as_str() {
            "" => "the connection ended".to_owned(),
            _ => why,
        };
        let unanswered = self.written.drain(..).map(|w| (w.id, w.at.elapsed()));
        let waiting = std::iter::from_fn(|| jobs.try_recv().ok()).map(|j| (j.id, Duration::ZERO));
        for (id, took) in unanswered.chain(waiting).collect::<Vec<_>>() {
            self.state.unanswered.fetch_sub(1, Ordering::Relaxed);
            let why = why.clone();
            self.answer(id, Outcome::Unavailable { after: None, why }, took);
        }
    }

    fn answer(&self, id: u64, outcome: Outcome, rtt: Duration) {
        let _ = self.answers.send(Answered { id, outcome, rtt });
    }
}
