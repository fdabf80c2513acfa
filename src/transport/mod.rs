//! Where a body goes, on the delivery thread: HTTP to jKool (one reused
//! reqwest client, where each kind of item goes, and what the answer
//! means), or a `file://` sink of JSON lines. It sends what it is given and
//! says what happened; what to do next is `delivery`'s.

pub(crate) mod destination;
pub(crate) mod files;
pub(crate) mod pipelined;
pub(crate) mod retry;
pub(crate) mod rotate;
pub(crate) mod secret;

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER, USER_AGENT,
};
use reqwest::{Method, StatusCode, Url};

use crate::item::model::Kind;
use crate::transport::retry::parse_retry_after;
use crate::transport::secret::Secret;
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

/// Names the client in `X-API-Runtime`: no secret, only what runs.
const RUNTIME: &str = concat!("tracing-jkool/", env!("CARGO_PKG_VERSION"), " (Rust)");

/// Makes the one HTTP client the worker uses (keep-alive, rustls, no
/// redirects: the token header must never travel to another host) and
/// the headers of every request, those jKool's REST client sends: the
/// token as both `X-API-Key` and `token`, and `X-API-Host-Name`,
/// `X-API-Host-Addr` and `X-API-Runtime`, which carry no secret; with
/// `gzip`, `Content-Encoding: gzip`. The headers are set on each request
/// whole, made once: the client's default headers would be merged into
/// each request one by one.
pub(crate) fn client(
    token: &Secret,
    options: &ClientOptions,
    gzip: bool,
) -> Result<(reqwest::Client, HeaderMap), Error> {
    let mut key = HeaderValue::from_str(token.expose()).map_err(|_| Error::InvalidSetting {
        setting: "token",
        reason: "the token holds characters an HTTP header cannot carry".into(),
    })?;
    key.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert("x-api-key", key.clone());
    headers.insert("token", key);
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    let host = crate::item::source::host_name().and_then(|name| HeaderValue::from_str(&name).ok());
    let address = (crate::item::source::host_address())
        .and_then(|ip| HeaderValue::from_str(&ip.to_string()).ok());
    for (name, value) in [("x-api-host-name", host), ("x-api-host-addr", address)] {
        headers.extend(value.map(|value| (HeaderName::from_static(name), value)));
    }
    headers.insert("x-api-runtime", HeaderValue::from_static(RUNTIME));
    headers.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("tracing-jkool/", env!("CARGO_PKG_VERSION"))),
    );
    if gzip {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(options.connect_timeout)
        .timeout(options.request_timeout)
        // jKool closes idle connections after about five minutes.
        .pool_idle_timeout(Duration::from_secs(240));
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
    let client = builder.build().map_err(|e| Error::HttpClient(e.into()))?;
    Ok((client, headers))
}

/// What became of one POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Accepted,
    /// jKool could not be reached or is not taking requests now
    /// (connection error, timeout, 408, 429, 502, 503, 504): try again,
    /// after the server's `Retry-After` if it sent one. Never the items'
    /// fault.
    Unavailable {
        after: Option<Duration>,
        why: String,
    },
    /// Any other 5xx: the server answered but failed on this body, which
    /// may hold an item it cannot take.
    ServerError {
        status: StatusCode,
        after: Option<Duration>,
    },
    /// 413: the body was too large.
    TooLarge,
    /// 400, 415 or 422: an item is bad, or the endpoint takes only one
    /// object per request.
    BadRequest(StatusCode),
    /// 401 or 403: the token was refused.
    TokenRejected(StatusCode),
    /// Any other answer: not worth trying again.
    Rejected(StatusCode),
}

impl Outcome {
    /// Whether the server answered, so that it is up.
    pub(crate) fn server_answered(&self) -> bool {
        !matches!(self, Outcome::Unavailable { .. })
    }
}

/// Where bodies go.
#[derive(Debug)]
pub(crate) enum Destination {
    /// jKool, or anything that speaks its HTTP.
    Http(Box<Http>),
    /// A file of JSON lines, for air-gapped hosts and replay later.
    File(crate::transport::rotate::FileSink),
}

/// jKool over HTTP: the client, where each kind goes, and every
/// request's headers.
#[derive(Debug)]
pub(crate) struct Http {
    pub client: reqwest::Client,
    pub endpoints: Endpoints,
    pub headers: HeaderMap,
    /// One object per request over connections of our own, where it can.
    pub pipelined: Option<pipelined::Pipelined>,
}

/// Delivers bodies.
#[derive(Debug)]
pub(crate) struct Transport {
    destination: Destination,
}

impl Transport {
    pub(crate) fn new(destination: Destination) -> Self {
        Transport { destination }
    }

    /// Where bodies go, for a person to read: jKool's host and port (a URL
    /// never holds credentials), or the file's path.
    pub(crate) fn target(&self) -> String {
        match &self.destination {
            Destination::Http(http) => {
                let url = &http.endpoints.event;
                let host = url.host_str().unwrap_or_default();
                match url.port_or_known_default() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_owned(),
                }
            }
            Destination::File(file) => file.path().display().to_string(),
        }
    }

    /// Whether requests may overlap: a file takes one write at a time.
    pub(crate) fn concurrent(&self) -> bool {
        matches!(self.destination, Destination::Http(_))
    }

    /// The pipelined connections, when requests go over them instead of
    /// [`post`](Self::post).
    pub(crate) fn pipelined(&mut self) -> Option<&mut pipelined::Pipelined> {
        match &mut self.destination {
            Destination::Http(http) => http.pipelined.as_mut(),
            Destination::File(_) => None,
        }
    }

    /// Delivers one body of items of `kind`, once, through reqwest or to
    /// the file. The request runs on its own, so that several can be in
    /// flight; a file is written at once, from the delivery thread, which
    /// never holds up the application.
    pub(crate) fn post(
        &mut self,
        kind: Kind,
        body: Bytes,
    ) -> impl std::future::Future<Output = Outcome> + Send + 'static {
        let request = match &mut self.destination {
            Destination::Http(http) => {
                let url = http.endpoints.url(kind).clone();
                let mut request = reqwest::Request::new(Method::POST, url);
                *request.headers_mut() = http.headers.clone();
                *request.body_mut() = Some(body.into());
                Ok(http.client.execute(request))
            }
            Destination::File(file) => Err(match file.write(&body) {
                Ok(()) => Outcome::Accepted,
                Err(err) => Outcome::Unavailable {
                    after: None,
                    why: format!("could not write to the file: {err}"),
                },
            }),
        };
        async move {
            let unavailable = |why: String| Outcome::Unavailable { after: None, why };
            match request {
                Ok(request) => match request.await {
                    Ok(response) => classify(&response),
                    // reqwest's error text names the URL, never the
                    // headers; the source chain says why.
                    Err(err) => unavailable(error_chain(&err.without_url())),
                },
                Err(outcome) => outcome,
            }
        }
    }
}

/// An error with every cause after it: "error sending request: connection
/// refused", not just the first part.
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        // hyper and reqwest repeat their cause in their own text at times.
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

fn classify(response: &reqwest::Response) -> Outcome {
    classify_status(response.status(), retry_after(response))
}

/// What an answer with `status` (and `Retry-After: after`) means.
pub(crate) fn classify_status(status: StatusCode, after: Option<Duration>) -> Outcome {
    match status {
        s if s.is_success() => Outcome::Accepted,
        StatusCode::REQUEST_TIMEOUT
        | StatusCode::TOO_MANY_REQUESTS
        | StatusCode::BAD_GATEWAY
        | StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::GATEWAY_TIMEOUT => Outcome::Unavailable {
            after,
            why: format!("jKool answered {status}"),
        },
        s if s.is_server_error() => Outcome::ServerError { status, after },
        StatusCode::PAYLOAD_TOO_LARGE => Outcome::TooLarge,
        StatusCode::BAD_REQUEST
        | StatusCode::UNSUPPORTED_MEDIA_TYPE
        | StatusCode::UNPROCESSABLE_ENTITY => Outcome::BadRequest(status),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Outcome::TokenRejected(status),
        _ => Outcome::Rejected(status),
    }
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value)
}
