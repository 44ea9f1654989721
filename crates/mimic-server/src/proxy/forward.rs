//! What the proxy does for hosts Mimic does not serve: a `CONNECT` becomes a plain TCP tunnel
//! (nothing decrypted: the client sees the real site's certificate), and a plain-HTTP proxy
//! request (`GET http://host/...`, what `HTTP_PROXY` sends) is forwarded as an HTTP/1.1 origin
//! request, one upstream connection per request. Destinations on this machine are refused
//! (destination.rs).

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, Request, Response, StatusCode, Uri};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use super::destination::{self, Refused};

pub fn refusal(host: &str, port: u16, why: &Refused) -> Response<Body> {
    text(why.status(), why.explain(host, port))
}

pub fn text(status: StatusCode, message: String) -> Response<Body> {
    Response::builder().status(status).header(header::CONTENT_TYPE, "text/plain").body(Body::from(message + "\n")).expect("static response")
}

/// Answers `CONNECT host:port` with a byte-for-byte tunnel once the destination is connected.
pub async fn tunnel(req: Request<Incoming>, host: String, port: u16) -> Response<Body> {
    let mut upstream = match destination::connect(&host, port).await {
        Ok(s) => s,
        Err(why) => return refusal(&host, port, &why),
    };
    tokio::spawn(async move {
        let upgraded = match hyper::upgrade::on(req).await {
            Ok(u) => u,
            Err(e) => return tracing::debug!(error = %e, "proxy upgrade failed"),
        };
        let mut client = TokioIo::new(upgraded);
        if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
            tracing::debug!(error = %e, host, port, "tunnel closed");
        }
    });
    Response::new(Body::empty())
}

/// Headers that describe one hop, not the message (RFC 9110 §7.6.1), plus what a client says
/// only to its proxy.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in named {
        headers.remove(n);
    }
    for n in [
        "connection",
        "proxy-connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-authenticate",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ] {
        headers.remove(n);
    }
}

/// Forwards an absolute-form request (`GET http://host:port/path`) to its origin.
pub async fn http(mut req: Request<Incoming>, host: String, port: u16) -> Response<Body> {
    let stream = match destination::connect(&host, port).await {
        Ok(s) => s,
        Err(why) => return refusal(&host, port, &why),
    };
    let (mut sender, conn) = match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
        Ok(x) => x,
        Err(e) => return text(StatusCode::BAD_GATEWAY, format!("Mimic's proxy cannot talk to {host}:{port}: {e}")),
    };
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "forwarded connection failed");
        }
    });
    let origin_form = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/").to_string();
    *req.uri_mut() = origin_form.parse::<Uri>().unwrap_or_else(|_| Uri::from_static("/"));
    strip_hop_by_hop(req.headers_mut());
    if !req.headers().contains_key(header::HOST) {
        let authority = if port == 80 { host.clone() } else { format!("{host}:{port}") };
        if let Ok(v) = authority.parse() {
            req.headers_mut().insert(header::HOST, v);
        }
    }
    match sender.send_request(req).await {
        Ok(res) => {
            let (mut parts, body) = res.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            Response::from_parts(parts, Body::new(body))
        }
        Err(e) => text(StatusCode::BAD_GATEWAY, format!("Mimic's proxy got no answer from {host}:{port}: {e}")),
    }
}
