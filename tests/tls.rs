//! HTTPS with a private CA: the layer trusts it only when told to with
//! `root_certificate_pem`, and checks the host name even then. The server is
//! a TLS endpoint on 127.0.0.1 with a certificate made for the test.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use serde_json::Value;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tracing::info;
use tracing_jkool::JKoolLayer;

/// A CA, and a certificate it signed for `localhost` only.
struct Pki {
    ca_pem: String,
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

fn pki() -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().expect("CA key");
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().expect("server key");
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("server params")
        .signed_by(&leaf_key, &issuer)
        .expect("server certificate");
    Pki {
        ca_pem: ca_cert.pem(),
        cert: leaf.der().clone(),
        key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()).into(),
    }
}

/// Counts of what the TLS server saw.
#[derive(Default)]
struct Seen {
    items: AtomicUsize,
    failed_handshakes: AtomicUsize,
    connections: AtomicUsize,
    http2_requests: AtomicUsize,
}

/// Serves HTTPS/1.1 on 127.0.0.1 for at most 200 connections; returns the
/// port.
fn serve(pki: &Pki) -> (u16, Arc<Seen>) {
    serve_with(pki, false)
}

/// [`serve`], offering HTTP/2 by ALPN with `http2`.
fn serve_with(pki: &Pki, http2: bool) -> (u16, Arc<Seen>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(vec![pki.cert.clone()], pki.key.clone_key())
        .expect("server config");
    let mut config = config;
    if http2 {
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    }
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Seen::default());
    let counts = seen.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            for _ in 0..200 {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let tls = match acceptor.accept(tcp).await {
                    Ok(tls) => tls,
                    Err(_) => {
                        counts.failed_handshakes.fetch_add(1, Ordering::SeqCst);
                        continue;
                    }
                };
                counts.connections.fetch_add(1, Ordering::SeqCst);
                let counts = counts.clone();
                let service = hyper::service::service_fn(
                    move |request: hyper::Request<hyper::body::Incoming>| {
                        let counts = counts.clone();
                        if request.version() == hyper::Version::HTTP_2 {
                            counts.http2_requests.fetch_add(1, Ordering::SeqCst);
                        }
                        async move {
                            let body = request.into_body().collect().await?.to_bytes();
                            // One object per line, or an array.
                            let items = match serde_json::from_slice::<Vec<Value>>(&body) {
                                Ok(items) => items.len(),
                                Err(_) => (body.split(|b| *b == b'\n'))
                                    .filter(|line| serde_json::from_slice::<Value>(line).is_ok())
                                    .count(),
                            };
                            counts.items.fetch_add(items, Ordering::SeqCst);
                            Ok::<_, hyper::Error>(hyper::Response::new(Full::new(
                                Bytes::from_static(b"{}"),
                            )))
                        }
                    },
                );
                let io = hyper_util::rt::TokioIo::new(tls);
                let h2 = tls_is_h2(&io);
                match h2 {
                    true => tokio::spawn(async move {
                        let executor = hyper_util::rt::TokioExecutor::new();
                        let served = hyper::server::conn::http2::Builder::new(executor)
                            .serve_connection(io, service);
                        let _ = served.await;
                    }),
                    false => tokio::spawn(async move {
                        let served = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, service);
                        let _ = served.await;
                    }),
                };
            }
        });
    });
    (port, seen)
}

/// Whether the client chose HTTP/2 in the TLS handshake.
fn tls_is_h2(
    io: &hyper_util::rt::TokioIo<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>,
) -> bool {
    io.inner().get_ref().1.alpn_protocol() == Some(b"h2")
}

fn send_three(builder: tracing_jkool::Builder) -> tracing_jkool::Stats {
    let builder = builder
        .flush_interval(Duration::from_millis(20))
        .give_up_after(Duration::from_millis(500))
        .max_retry_wait(Duration::from_millis(100));
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..3 {
            info!(i, "over TLS");
        }
    });
    let _ = handle.flush(WAIT);
    handle.stats()
}

#[test]
fn a_private_ca_is_trusted_only_when_given() {
    let pki = pki();
    let (port, seen) = serve(&pki);
    let url = format!("https://localhost:{port}");

    let untrusted = send_three(JKoolLayer::builder(TOKEN).url(&url));
    assert_eq!((untrusted.sent, untrusted.failed), (0, 3), "{untrusted:?}");
    assert!(seen.failed_handshakes.load(Ordering::SeqCst) >= 1);
    assert_eq!(seen.items.load(Ordering::SeqCst), 0);

    let trusted = send_three(
        JKoolLayer::builder(TOKEN)
            .url(&url)
            .root_certificate_pem(pki.ca_pem.as_bytes()),
    );
    assert_eq!((trusted.sent, trusted.failed), (3, 0), "{trusted:?}");
    assert_eq!(seen.items.load(Ordering::SeqCst), 3);
}

#[test]
fn the_host_name_is_checked_even_with_the_ca_trusted() {
    let pki = pki();
    let (port, seen) = serve(&pki);
    // The certificate names `localhost`, not the address.
    let builder = JKoolLayer::builder(TOKEN)
        .url(format!("https://127.0.0.1:{port}"))
        .root_certificate_pem(pki.ca_pem.as_bytes());
    let stats = send_three(builder);
    assert_eq!((stats.sent, stats.failed), (0, 3), "{stats:?}");
    assert_eq!(seen.items.load(Ordering::SeqCst), 0);
    assert!(seen.failed_handshakes.load(Ordering::SeqCst) >= 1);
}

/// Set in the child process that the OS trust store test starts.
const CHILD_CA: &str = "TRACING_JKOOL_TLS_CHILD_CA";

#[test]
fn with_native_roots_the_operating_systems_trust_store_is_used() {
    // The child trusts the CA through the OS store (SSL_CERT_FILE) alone.
    if let Some(url) = std::env::var_os(CHILD_CA) {
        let url = url.to_string_lossy().into_owned();
        let stats = send_three(JKoolLayer::builder(TOKEN).url(url));
        assert_eq!((stats.sent, stats.failed), (3, 0), "{stats:?}");
        return;
    }
    let pki = pki();
    let (port, seen) = serve(&pki);
    let ca_file = std::env::temp_dir().join(format!("tracing-jkool-ca-{port}.pem"));
    std::fs::write(&ca_file, &pki.ca_pem).expect("CA file");
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "with_native_roots_the_operating_systems_trust_store_is_used",
        ])
        .env(CHILD_CA, format!("https://localhost:{port}"))
        .env("SSL_CERT_FILE", &ca_file)
        .output()
        .expect("child runs");
    let _ = std::fs::remove_file(&ca_file);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(seen.items.load(Ordering::SeqCst), 3);
}

#[test]
fn where_the_server_offers_http2_many_requests_share_one_connection() {
    let pki = pki();
    let (port, seen) = serve_with(&pki, true);
    let builder = JKoolLayer::builder(TOKEN)
        .url(format!("https://localhost:{port}"))
        .root_certificate_pem(pki.ca_pem.as_bytes());
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..60 {
            info!(i, "over HTTP/2");
        }
    });
    handle.flush(WAIT).expect("delivered");
    let stats = handle.stats();
    assert_eq!((stats.sent, stats.batches), (60, 60), "{stats:?}");
    assert_eq!(seen.items.load(Ordering::SeqCst), 60);
    assert_eq!(seen.http2_requests.load(Ordering::SeqCst), 60);
    // The first requests, sent together before any handshake ended, may
    // each open one (the concurrency limit starts at 4); the rest share.
    let connections = seen.connections.load(Ordering::SeqCst);
    assert!((1..=4).contains(&connections), "{connections} connections");
}
