//! HTTP to jKool: one reused reqwest client, where each kind of item goes,
//! and what the answer means.

use std::io::Write;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{StatusCode, Url};

use crate::model::Kind;
use crate::retry::parse_retry_after;
use crate::secret::Secret;
use crate::Error;

/// Where each kind of item is posted.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    pub event: Url,
    pub activity: Url,
}

impl Endpoints {
    fn url(&self, kind: Kind) -> &Url {
        match kind {
            Kind::Event => &self.event,
            Kind::Activity => &self.activity,
        }
    }
}

/// How the HTTP client connects.
#[derive(Debug, Clone)]
pub(crate) struct ClientOptions {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// May hold credentials.
    pub proxy: Option<Secret>,
    /// Extra CA certificates, PEM.
    pub root_certificates: Vec<Vec<u8>>,
}

/// Makes the one HTTP client the worker uses: keep-alive, rustls, no
/// redirects (the token header must never travel to another host), and the
/// token on every request as both `X-API-Key` and `token`.
pub(crate) fn client(token: &Secret, options: &ClientOptions) -> Result<reqwest::Client, Error> {
    let mut key = HeaderValue::from_str(token.expose()).map_err(|_| Error::InvalidSetting {
        setting: "token",
        reason: "the token holds characters an HTTP header cannot carry".into(),
    })?;
    key.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert("x-api-key", key.clone());
    headers.insert("token", key);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut builder = reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(options.connect_timeout)
        .timeout(options.request_timeout)
        // jKool closes idle connections after about five minutes.
        .pool_idle_timeout(Duration::from_secs(240))
        .user_agent(concat!("tracing-jkool/", env!("CARGO_PKG_VERSION")));
    if let Some(proxy) = &options.proxy {
        // reqwest takes `user:password@` in the URL as Basic credentials.
        let proxy = reqwest::Proxy::all(proxy.expose()).map_err(|e| Error::InvalidSetting {
            setting: "proxy",
            reason: e.without_url().to_string(),
        })?;
        builder = builder.proxy(proxy);
    }
    for pem in &options.root_certificates {
        let invalid = |reason: String| Error::InvalidSetting {
            setting: "root_certificate_pem",
            reason,
        };
        let certificates =
            reqwest::Certificate::from_pem_bundle(pem).map_err(|e| invalid(e.to_string()))?;
        if certificates.is_empty() {
            return Err(invalid("no certificate in the PEM text".into()));
        }
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build().map_err(Error::HttpClient)
}

/// What became of one POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Accepted,
    /// Worth trying again (connection error, timeout, 408, 429, 5xx),
    /// after the server's `Retry-After` if it sent one.
    Retry {
        after: Option<Duration>,
    },
    /// 413: the body was too large.
    TooLarge,
    /// 400 or 415: the endpoint may take only one object per request.
    BadRequest(StatusCode),
    /// Any other answer: not worth trying again.
    Rejected,
}

/// Where bodies go.
#[derive(Debug)]
pub(crate) enum Destination {
    /// jKool, or anything that speaks its HTTP.
    Http {
        client: reqwest::Client,
        endpoints: Endpoints,
        gzip: bool,
    },
    /// A file of JSON lines, for air-gapped hosts and replay later.
    File(std::fs::File),
}

/// Delivers bodies and reports failures on stderr, plainly and rarely.
#[derive(Debug)]
pub(crate) struct Transport {
    destination: Destination,
    token_rejected_reported: bool,
    last_report: Option<Instant>,
}

/// At most one failure line per this interval, so an outage cannot flood
/// the application's stderr.
const REPORT_INTERVAL: Duration = Duration::from_secs(60);

impl Transport {
    pub fn new(destination: Destination) -> Self {
        Transport {
            destination,
            token_rejected_reported: false,
            last_report: None,
        }
    }

    /// Delivers one body holding `count` items of `kind`, once.
    pub async fn post(&mut self, kind: Kind, body: Bytes, count: usize) -> Outcome {
        let request = match &mut self.destination {
            Destination::Http {
                client,
                endpoints,
                gzip,
            } => {
                let request = client.post(endpoints.url(kind).clone()).body(body);
                match gzip {
                    true => request.header(CONTENT_ENCODING, "gzip"),
                    false => request,
                }
            }
            // The delivery thread is ours: a blocking write here never
            // holds up the application.
            Destination::File(file) => {
                return match file.write_all(&body) {
                    Ok(()) => Outcome::Accepted,
                    Err(err) => {
                        self.report(format_args!(
                            "could not write {count} item(s) to the file, will retry: {err}"
                        ));
                        Outcome::Retry { after: None }
                    }
                }
            }
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => {
                // reqwest's error text names the URL, never the headers.
                self.report(format_args!(
                    "could not send {count} item(s) to jKool, will retry: {}",
                    err.without_url()
                ));
                return Outcome::Retry { after: None };
            }
        };
        let status = response.status();
        match status {
            s if s.is_success() => Outcome::Accepted,
            StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS => Outcome::Retry {
                after: retry_after(&response),
            },
            s if s.is_server_error() => {
                self.report(format_args!(
                    "jKool answered {status} to {count} item(s), will retry"
                ));
                Outcome::Retry {
                    after: retry_after(&response),
                }
            }
            StatusCode::PAYLOAD_TOO_LARGE => Outcome::TooLarge,
            StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                Outcome::BadRequest(status)
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                if !self.token_rejected_reported {
                    self.token_rejected_reported = true;
                    eprintln!(
                        "tracing-jkool: jKool rejected the access token ({status}); \
                         items are counted as failed"
                    );
                }
                Outcome::Rejected
            }
            _ => {
                self.rejected(status, count);
                Outcome::Rejected
            }
        }
    }

    /// Reports that `count` items were refused for good with `status`.
    pub fn rejected(&mut self, status: StatusCode, count: usize) {
        self.report(format_args!(
            "jKool answered {status} to {count} item(s); they are counted as failed"
        ));
    }

    /// One line on stderr, at most once per [`REPORT_INTERVAL`].
    pub fn report(&mut self, message: std::fmt::Arguments<'_>) {
        let now = Instant::now();
        if self
            .last_report
            .is_some_and(|last| now.duration_since(last) < REPORT_INTERVAL)
        {
            return;
        }
        self.last_report = Some(now);
        eprintln!("tracing-jkool: {message}");
    }
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value)
}
