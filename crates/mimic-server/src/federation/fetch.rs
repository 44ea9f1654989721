//! A bounded GET of an issuer's JSON documents (OpenID configuration, JWKS): one request, no
//! redirects, a deadline and a size cap, so that an issuer a tenant names cannot hold a token
//! request open or fill memory. HTTPS verifies against this machine's roots and Mimic's CA
//! (`ca_bundle.rs`); plain HTTP only reaches loopback (`mimic_domain::federation::issuer_location`).

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, Request, StatusCode};
use hyper_util::rt::TokioIo;
use mimic_domain::federation::issuer_location;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// The whole exchange (connect, TLS, request, body) must finish within this.
pub const DEADLINE: Duration = Duration::from_secs(5);
/// Largest document read; GitHub's JWKS is about 2 KB, Entra's about 10 KB.
pub const MAX_BYTES: usize = 256 * 1024;

/// Fetches `url` and parses it as JSON; the error says why, for the log (never the caller).
pub async fn get_json(url: &str, tls: Option<&Arc<rustls::ClientConfig>>) -> Result<Value, String> {
    match tokio::time::timeout(DEADLINE, get(url, tls)).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {} s", DEADLINE.as_secs())),
    }
}

async fn get(url: &str, tls: Option<&Arc<rustls::ClientConfig>>) -> Result<Value, String> {
    let loc = issuer_location(url).ok_or("not an https URL (or an http one on loopback)")?;
    let tcp = TcpStream::connect((loc.host.as_str(), loc.port)).await.map_err(|e| format!("cannot connect: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let path = if loc.path.is_empty() { "/".to_string() } else { loc.path.clone() };
    let authority = if (loc.https && loc.port == 443) || (!loc.https && loc.port == 80) {
        loc.host.clone()
    } else {
        format!("{}:{}", loc.host, loc.port)
    };
    if !loc.https {
        return exchange(tcp, &authority, &path).await;
    }
    let cfg = tls.ok_or("no trusted roots to verify HTTPS with")?;
    let name = rustls::pki_types::ServerName::try_from(loc.host.clone()).map_err(|e| format!("bad host name: {e}"))?;
    let stream = tokio_rustls::TlsConnector::from(cfg.clone()).connect(name, tcp).await.map_err(|e| format!("TLS: {e}"))?;
    exchange(stream, &authority, &path).await
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(stream: S, authority: &str, path: &str) -> Result<Value, String> {
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("HTTP: {e}"))?;
    let driver = tokio::spawn(conn);
    let req = Request::get(path)
        .header(header::HOST, authority)
        .header(header::ACCEPT, "application/json")
        .header(header::USER_AGENT, "Mimic-Federation/1")
        .body(axum::body::Body::empty())
        .map_err(|e| e.to_string())?;
    let res = sender.send_request(req).await.map_err(|e| format!("HTTP: {e}"));
    let out = match res {
        Ok(res) if res.status() == StatusCode::OK => {
            let body = axum::body::to_bytes(axum::body::Body::new(res.into_body()), MAX_BYTES).await;
            body.map_err(|_| format!("the document is larger than {MAX_BYTES} bytes"))
                .and_then(|b| serde_json::from_slice(&b).map_err(|_| "the document is not JSON".to_string()))
        }
        Ok(res) => Err(format!("HTTP status {}", res.status().as_u16())),
        Err(e) => Err(e),
    };
    driver.abort();
    out
}

/// A client configuration trusting the roots in a PEM bundle (this machine's and Mimic's CA).
pub fn client_config(bundle: &std::path::Path) -> Option<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(bundle).ok()?.flatten() {
        let _ = roots.add(cert);
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions().ok()?;
    Some(Arc::new(cfg.with_root_certificates(roots).with_no_client_auth()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback server answering every connection with `response` (or never, for `None`).
    async fn serve(response: Option<Vec<u8>>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let response = response.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf).await;
                    match response {
                        Some(r) => {
                            let _ = s.write_all(&r).await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                });
            }
        });
        url
    }

    fn http(status: &str, extra: &str, body: &[u8]) -> Vec<u8> {
        let mut r = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n{extra}\r\n", body.len()).into_bytes();
        r.extend_from_slice(body);
        r
    }

    #[tokio::test]
    async fn reads_json_from_a_loopback_issuer() {
        let url = serve(Some(http("200 OK", "Content-Type: application/json\r\n", br#"{"keys":[]}"#))).await;
        assert_eq!(get_json(&format!("{url}/keys"), None).await.unwrap(), serde_json::json!({"keys": []}));
    }

    #[tokio::test]
    async fn refuses_redirects_large_bodies_and_non_json() {
        let url = serve(Some(http("302 Found", "Location: http://127.0.0.1:1/\r\n", b""))).await;
        assert!(get_json(&url, None).await.unwrap_err().contains("302"));
        let url = serve(Some(http("200 OK", "", &vec![b' '; MAX_BYTES + 1]))).await;
        assert!(get_json(&url, None).await.unwrap_err().contains("larger"));
        let url = serve(Some(http("200 OK", "", b"<html>"))).await;
        assert!(get_json(&url, None).await.unwrap_err().contains("not JSON"));
    }

    #[tokio::test]
    async fn refuses_plain_http_off_loopback_and_https_without_roots() {
        assert!(get_json("http://example.com/x", None).await.is_err());
        let url = serve(Some(http("200 OK", "", b"{}"))).await.replace("http://", "https://");
        assert!(get_json(&url, None).await.unwrap_err().contains("roots"));
    }

    #[tokio::test]
    async fn gives_up_on_an_issuer_that_never_answers() {
        let url = serve(None).await;
        assert!(get_json(&url, None).await.unwrap_err().contains("no answer"));
    }
}
