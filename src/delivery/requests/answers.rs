//! What an answer does to its group: done with, tried again after a
//! backoff, split in halves, or refused; and what answers together say
//! about the endpoint (down, refusing batches).

use reqwest::StatusCode;
use tokio::time::{Duration, Instant};

use super::{Answer, Delivery, Done, PROBE_AFTER_FAILURES, REPROBE_BATCHES};
use crate::delivery::backlog::Backlog;
use crate::delivery::group::Group;
use crate::handle::notices::Notice;
use crate::handle::stats::Cure;
use crate::transport::{retry, Outcome};

impl Delivery {
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
        // Only a request sent since jKool was found down says it is back:
        // one sent before, answered late, tells nothing new.
        let back = self.down_since.is_some_and(|since| group.last_try >= since);
        if outcome.server_answered() && back {
            self.down_since = None;
            // What waited for it need not wait any longer, but for what
            // jKool itself asked to wait (`Retry-After`).
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
                self.down_since.get_or_insert(now);
                group.failing_since = None;
                // An answer (429, 503) asks for patience; anything else
                // (refused, unreachable, timed out) is where we send.
                let (cure, cause) = if why.starts_with("jKool answered") {
                    (Cure::Wait, why.clone())
                } else {
                    (
                        Cure::CheckUrl,
                        format!("{}: {why}", self.transport.target()),
                    )
                };
                self.shared.trouble(cure, cause);
                group.waits_for_jkool = true;
                self.reporter.say(
                    Notice::Retrying,
                    format_args!(
                        "could not send {count} item(s) to jKool at {}, will retry: {why}",
                        self.transport.target()
                    ),
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
                    self.shared
                        .trouble(Cure::Wait, format!("jKool answered {status}"));
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
                self.shared.trouble(
                    Cure::CheckToken,
                    format!("{status}: jKool refused the token"),
                );
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
        group.not_before = after.map(|_| now + wait);
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
