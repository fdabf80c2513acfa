//! Where items go: jKool's endpoints under a base URL, or a file of JSON
//! lines; and the checks a URL must pass.

use reqwest::Url;

use crate::transport::secret::Secret;
use crate::transport::{self, ClientOptions, Destination, Endpoints};
use crate::Error;

/// The HTTP endpoints under `url` (events and activities go to their path
/// below it, or to `url` itself without one), or the file that a `file://`
/// URL names, opened for appending.
pub(crate) fn destination(
    url: &str,
    [event_path, activity_path]: [Option<&str>; 2],
    token: &Secret,
    client: &ClientOptions,
    gzip: bool,
    rotation: &crate::transport::rotate::Options,
) -> Result<Destination, Error> {
    if url.starts_with("file:") {
        let invalid = |reason: String| Error::InvalidUrl {
            url: redacted(url),
            reason,
        };
        let path = Url::parse(url)
            .ok()
            .and_then(|url| url.to_file_path().ok())
            .ok_or_else(|| invalid("not an absolute file path".into()))?;
        let file = crate::transport::rotate::FileSink::open(path, rotation.clone())
            .map_err(|e| invalid(e.to_string()))?;
        return Ok(Destination::File(file));
    }
    let base = parse_base_url(url)?;
    let endpoints = Endpoints {
        event: endpoint(&base, event_path)?,
        activity: endpoint(&base, activity_path)?,
    };
    warn_if_cleartext(&base);
    let (client, headers) = transport::client(token, client, gzip)?;
    Ok(Destination::Http(Box::new(transport::Http {
        client,
        endpoints,
        headers,
        pipelined: None,
    })))
}

fn parse_base_url(url: &str) -> Result<Url, Error> {
    let invalid = |reason: &str| Error::InvalidUrl {
        url: redacted(url),
        reason: reason.to_owned(),
    };
    if !url.contains("://") {
        // `127.0.0.1:8080` or `localhost:8080`: the url crate reads no
        // scheme, or the host as one; either way the fix is the same.
        let shown = redacted(url);
        return Err(invalid(&format!(
            "it has no scheme; write http://{shown} (or https://{shown})"
        )));
    }
    let parsed = Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http, https or file"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("credentials belong in the token, not the URL"));
    }
    Ok(parsed)
}

/// `url` with the credentials of its authority, if any, replaced: an
/// error that names the URL must not show a password, even in a URL too
/// broken to parse.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://<redacted>{}", &rest[at..]),
        None => url.to_owned(),
    }
}

/// Plain http anywhere but loopback: the token would cross the network in
/// clear text.
fn is_cleartext(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    url.scheme() == "http" && !loopback
}

/// Says once, at start, when the token would travel in clear text.
fn warn_if_cleartext(url: &Url) {
    if is_cleartext(url) {
        crate::handle::notices::stderr(format_args!(
            "sending to {} over plain http: the access token is not encrypted",
            url.origin().ascii_serialization()
        ));
    }
}

/// `base` with `path` appended, or `base` itself when there is no path.
fn endpoint(base: &Url, path: Option<&str>) -> Result<Url, Error> {
    let Some(path) = path else {
        return Ok(base.clone());
    };
    let joined = format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    parse_base_url(&joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_paths_under_the_base_url() {
        let base = parse_base_url("http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            endpoint(&base, Some("/JESL/event")).unwrap().as_str(),
            "http://127.0.0.1:8080/JESL/event"
        );
        assert_eq!(
            endpoint(&base, None).unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
    }

    #[test]
    fn errors_never_show_the_credentials_of_a_url() {
        for (url, shown) in [
            ("http://user:pw@host/x", "http://<redacted>@host/x"),
            ("https://:secret@h:8080", "https://<redacted>@h:8080"),
            ("ftp://me:pw@host", "ftp://<redacted>@host"),
            ("http://host/a@b", "http://host/a@b"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(redacted(url), shown);
        }
        let err = parse_base_url("http://user:hunter2@example.com").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn a_url_without_a_scheme_says_so_and_shows_the_fix() {
        for url in ["127.0.0.1:8080", "localhost:8080"] {
            let err = parse_base_url(url).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "invalid jKool URL \"{url}\": it has no scheme; write http://{url} \
                     (or https://{url})"
                )
            );
        }
    }

    #[test]
    fn plain_http_is_cleartext_except_on_loopback() {
        let cleartext = |url: &str| is_cleartext(&parse_base_url(url).unwrap());
        assert!(cleartext("http://stream.example.com"));
        assert!(cleartext("http://10.0.0.2:8080"));
        assert!(!cleartext("http://127.0.0.1:8080"));
        assert!(!cleartext("http://[::1]:8080"));
        assert!(!cleartext("http://localhost"));
        assert!(!cleartext("https://stream.meshiq.com"));
    }
}
