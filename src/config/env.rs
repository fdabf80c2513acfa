//! Settings from environment variables, read through a lookup function so
//! that tests need not change the process's environment.

use std::time::Duration;

use crate::config::build::MAX_QUEUE_CAPACITY;
use crate::transport::secret::Secret;
use crate::{Builder, Error, Sampler};

/// # From the environment
///
/// `JKOOL_*` variables, applied over what the code set.
///
/// ```no_run
/// let layer = tracing_jkool::JKoolLayer::builder("my-access-token")
///     .with_env()?
///     .build()?;
/// # Ok::<(), tracing_jkool::Error>(())
/// ```
impl Builder {
    /// Applies the settings given in environment variables, for those that
    /// are set: `JKOOL_TOKEN`, `JKOOL_URL`, `JKOOL_LEVEL` (`off`, `error`,
    /// ..., `trace`), `JKOOL_SOURCE_FQN`, `JKOOL_QUEUE_CAPACITY`,
    /// `JKOOL_FRAMING` (`object`, `lines`, `array`: [`framing`](Self::framing)),
    /// `JKOOL_BATCH_SIZE`, `JKOOL_FLUSH_INTERVAL_MS`,
    /// `JKOOL_MAX_CONCURRENT_REQUESTS`, `JKOOL_PROCESS_METRICS_MS`
    /// ([`process_metrics`](Self::process_metrics)),
    /// `JKOOL_SELF_METRICS_MS` ([`self_metrics`](Self::self_metrics)) and
    /// `JKOOL_OPERATION_METRICS_MS` ([`operation_metrics`](Self::operation_metrics)); for
    /// those three, `0` turns the reports off; `JKOOL_SPOOL_DIR`
    /// ([`spool_dir`](Self::spool_dir)) and `JKOOL_SPOOL_MAX_BYTES`;
    /// `JKOOL_CAPTURE_PANICS` (`1` or `0`: [`capture_panics`](Self::capture_panics));
    /// `JKOOL_LOSSY` (`1` or `0`: [`lossy`](Self::lossy));
    /// `JKOOL_SEND_SENSITIVE_FIELDS` (`1` or `0`:
    /// [`send_sensitive_fields`](Self::send_sensitive_fields)) and
    /// `JKOOL_REDACT_FIELDS` (names separated by commas, added as
    /// [`redact_fields`](Self::redact_fields) adds them);
    /// `JKOOL_SAMPLE_RATIO` (the ratio of [`sampler`](Self::sampler)). Settings made after this call win
    /// over the environment; [`build`](Self::build) checks them all.
    ///
    /// # Errors
    /// [`Error::InvalidEnv`] naming the variable and its value (never the
    /// token's).
    ///
    /// ```
    /// let layer = tracing_jkool::JKoolLayer::builder("my-access-token")
    ///     .with_env()?
    ///     .batch_size(512) // wins over JKOOL_BATCH_SIZE
    ///     .build()?;
    /// # Ok::<(), tracing_jkool::Error>(())
    /// ```
    pub fn with_env(self) -> Result<Self, Error> {
        let names = std::env::vars_os().filter_map(|(name, _)| name.into_string().ok());
        for line in misspelt(names) {
            crate::handle::notices::stderr(format_args!("{line}"));
        }
        self.with_env_from(|name| std::env::var(name).ok())
    }

    /// [`with_env`](Self::with_env) with the variables from `lookup`.
    pub(crate) fn with_env_from(
        mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, Error> {
        let var = Lookup(&lookup);
        if let Some(NotEmpty(token)) = var.get("JKOOL_TOKEN")? {
            self.token = Secret::new(token);
        }
        if let Some(url) = var.get("JKOOL_URL")? {
            self.url = url;
            self.url_from_env = true;
        }
        if let Some(level) = var.get("JKOOL_LEVEL")? {
            self.level = level;
        }
        if let Some(fqn) = var.get("JKOOL_SOURCE_FQN")? {
            self.source_fqn = Some(fqn);
        }
        if let Some(Within(capacity)) =
            var.get::<Within<1, MAX_QUEUE_CAPACITY>>("JKOOL_QUEUE_CAPACITY")?
        {
            self.queue_capacity = capacity;
        }
        if let Some(framing) = var.get("JKOOL_FRAMING")? {
            self.settings.framing = framing;
        }
        if let Some(Within(size)) = var.get::<Within<1>>("JKOOL_BATCH_SIZE")? {
            self.settings.batch_size = size;
        }
        if let Some(ms) = var.get("JKOOL_FLUSH_INTERVAL_MS")? {
            self.settings.flush_interval = Duration::from_millis(ms);
        }
        if let Some(Within(requests)) = var.get::<Within<1>>("JKOOL_MAX_CONCURRENT_REQUESTS")? {
            self.settings.max_concurrent_requests = requests;
            self.concurrency_set = true;
        }
        if let Some(Ratio(ratio)) = var.get("JKOOL_SAMPLE_RATIO")? {
            let sampler = self.settings.sampler.unwrap_or(Sampler::ratio(ratio));
            self.settings.sampler = Some(sampler.with_ratio(ratio));
        }
        if let Some(Flag(yes)) = var.get("JKOOL_CAPTURE_PANICS")? {
            self.capture_panics = yes;
        }
        if let Some(Flag(yes)) = var.get("JKOOL_LOSSY")? {
            self.lossy = yes;
        }
        if let Some(Flag(yes)) = var.get("JKOOL_SEND_SENSITIVE_FIELDS")? {
            self.settings.redaction.send_sensitive = yes;
        }
        if let Some(names) = var.get::<String>("JKOOL_REDACT_FIELDS")? {
            let names = names
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty());
            self = self.redact_fields(names.map(str::to_owned).collect::<Vec<_>>());
        }
        if let Some(dir) = var.get::<String>("JKOOL_SPOOL_DIR")? {
            self.spool.dir = Some(dir.into());
        }
        if let Some(Within(bytes)) = var.get::<Within<{ 1 << 20 }>>("JKOOL_SPOOL_MAX_BYTES")? {
            self.spool.max_bytes = bytes as u64;
        }
        for (variable, setting) in [
            ("JKOOL_PROCESS_METRICS_MS", &mut self.metrics.process),
            ("JKOOL_SELF_METRICS_MS", &mut self.metrics.health),
            ("JKOOL_OPERATION_METRICS_MS", &mut self.metrics.operations),
        ] {
            if let Some(ms) = var.get::<u64>(variable)? {
                *setting = (ms > 0).then(|| Duration::from_millis(ms));
            }
        }
        Ok(self)
    }
}

/// Every variable [`Builder::with_env`] reads.
pub(crate) const VARIABLES: &[&str] = &[
    "JKOOL_TOKEN",
    "JKOOL_URL",
    "JKOOL_LEVEL",
    "JKOOL_SOURCE_FQN",
    "JKOOL_QUEUE_CAPACITY",
    "JKOOL_FRAMING",
    "JKOOL_BATCH_SIZE",
    "JKOOL_FLUSH_INTERVAL_MS",
    "JKOOL_MAX_CONCURRENT_REQUESTS",
    "JKOOL_SAMPLE_RATIO",
    "JKOOL_CAPTURE_PANICS",
    "JKOOL_LOSSY",
    "JKOOL_SEND_SENSITIVE_FIELDS",
    "JKOOL_REDACT_FIELDS",
    "JKOOL_SPOOL_DIR",
    "JKOOL_SPOOL_MAX_BYTES",
    "JKOOL_PROCESS_METRICS_MS",
    "JKOOL_SELF_METRICS_MS",
    "JKOOL_OPERATION_METRICS_MS",
];

/// A line for each `JKOOL_*` name among `names` that no setting reads,
/// with the closest one that does: a misspelt variable is otherwise
/// ignored without a word.
fn misspelt(names: impl Iterator<Item = String>) -> Vec<String> {
    names
        .filter(|name| name.starts_with("JKOOL_") && !VARIABLES.contains(&name.as_str()))
        .map(|name| {
            let closest = (VARIABLES.iter())
                .min_by_key(|known| distance(&name, known))
                .copied()
                .unwrap_or("JKOOL_TOKEN");
            format!("{name} is not a variable tracing-jkool reads; did you mean {closest}?")
        })
        .collect()
}

/// The edit distance between two names (insertions, deletions, changes).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// A sampling ratio, from 0 to 1.
struct Ratio(f64);

impl std::str::FromStr for Ratio {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.parse::<f64>() {
            Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(Ratio(ratio)),
            _ => Err("expected a ratio from 0 to 1, such as 0.1"),
        }
    }
}

/// A count from `MIN` to `MAX`, as [`Builder::build`] would check it.
struct Within<const MIN: usize, const MAX: usize = { usize::MAX }>(usize);

impl<const MIN: usize, const MAX: usize> std::str::FromStr for Within<MIN, MAX> {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.parse::<usize>() {
            Ok(n) if n < MIN => Err(format!("must be at least {MIN}")),
            Ok(n) if n > MAX => Err(format!("must be at most {MAX}")),
            Ok(n) => Ok(Within(n)),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Text that is not empty nor only whitespace.
struct NotEmpty(String);

impl std::str::FromStr for NotEmpty {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "" => Err("must not be empty"),
            _ => Ok(NotEmpty(text.to_owned())),
        }
    }
}

/// A yes or no: `1`, `true`, `yes`, `on`, or `0`, `false`, `no`, `off`.
struct Flag(bool);

impl std::str::FromStr for Flag {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Flag(true)),
            "0" | "false" | "no" | "off" => Ok(Flag(false)),
            _ => Err("expected 1 or 0 (true or false)"),
        }
    }
}

struct Lookup<'a, F>(&'a F);

impl<F: Fn(&str) -> Option<String>> Lookup<'_, F> {
    /// The value of `variable`, parsed, if it is set.
    fn get<T>(&self, variable: &'static str) -> Result<Option<T>, Error>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        let Some(value) = (self.0)(variable) else {
            return Ok(None);
        };
        value
            .trim()
            .parse()
            .map(Some)
            .map_err(|e: T::Err| Error::InvalidEnv {
                variable,
                reason: e.to_string(),
                // The token is never shown, whatever is wrong with it.
                value: if variable == "JKOOL_TOKEN" {
                    "<redacted>".into()
                } else {
                    value
                },
            })
    }
}

#[cfg(test)]
mod tests;
