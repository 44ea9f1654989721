//! What every listener does to every request: a request id (returned as Azure's
//! `x-ms-request-id` and carried by every log line of the request), correlation headers, and
//! one structured log line with the outcome.

use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-request-id");
pub static CORRELATION_ID: HeaderName = HeaderName::from_static("x-ms-correlation-request-id");
pub static CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-client-request-id");
pub static ROUTING_ID: HeaderName = HeaderName::from_static("x-ms-routing-request-id");

/// The request id of the request being served, for handlers that put it in bodies
/// (Entra's `trace_id`).
#[derive(Clone, Copy, Debug)]
pub struct RequestId(pub uuid::Uuid);

pub async fn request_context(surface: &'static str, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = uuid::Uuid::new_v4();
    req.extensions_mut().insert(RequestId(id));
    let correlation = req.headers().get(&CORRELATION_ID).cloned();
    let client_id = req.headers().get(&CLIENT_REQUEST_ID).cloned();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %id, surface);
    let mut res = next.run(req).instrument(span.clone()).await;
    let h = res.headers_mut();
    let id_value = HeaderValue::from_str(&id.to_string()).expect("uuid is a valid header");
    h.insert(&REQUEST_ID, id_value.clone());
    h.insert(&CORRELATION_ID, correlation.unwrap_or(id_value));
    if let Some(c) = client_id {
        h.insert(&CLIENT_REQUEST_ID, c);
    }
    if surface == "arm" {
        let routing = format!("LOCAL:{}:{id}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ"));
        if let Ok(v) = HeaderValue::from_str(&routing) {
            h.insert(&ROUTING_ID, v);
        }
    }
    span.in_scope(|| {
        tracing::info!(%method, path, status = res.status().as_u16(), micros = started.elapsed().as_micros() as u64, "served");
    });
    res
}

/// IMDS's variant of [`request_context`]: the same log line, but no request id and none of ARM's
/// correlation headers, which IMDS does not send (its answers carry `Content-Type` and `Server`:
/// docs/azure-behaviour.md §5) — and nothing at all to do when the line is not logged, since IMDS sits on every
/// token refresh of every workload.
pub async fn log_request(surface: &'static str, req: Request, next: Next) -> Response {
    if !tracing::enabled!(tracing::Level::INFO) {
        return next.run(req).await;
    }
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let res = next.run(req).await;
    tracing::info!(surface, %method, path, status = res.status().as_u16(), micros = started.elapsed().as_micros() as u64, "served");
    res
}

/// A listener whose surface is not part of this build: it answers every request with a clear
/// error instead of pretending.
pub fn not_built_router(surface: &'static str) -> axum::Router {
    use axum::response::IntoResponse;
    axum::Router::new().fallback(move || async move {
        (axum::http::StatusCode::NOT_IMPLEMENTED, format!("The Mimic {surface} surface is not available in this version.\n"))
            .into_response()
    })
}

/// Reads at most this much past the limit, discarding it, before answering 413: clients send
/// the whole body before reading the answer, and a server that closes on unread bytes makes the
/// kernel reset the connection, so the client would see a reset instead of the 413. Past this,
/// the connection is closed anyway.
const DRAIN_BYTES: usize = 16 * mimic_domain::limits::MAX_BODY_BYTES;

/// The request-size half of the bounded-input policy, for every listener that takes bodies:
/// a body over [`mimic_domain::limits::MAX_BODY_BYTES`] is answered by `too_large` (the
/// surface's own error, chosen by path for the portal, with the request's ids) after the rest is drained; a body within
/// it is buffered and handed on, so no handler ever sees more.
pub async fn limit_body(too_large: fn(&axum::http::request::Parts) -> Response, req: Request, next: Next) -> Response {
    use axum::body::{Body, HttpBody};
    let limit = mimic_domain::limits::MAX_BODY_BYTES;
    let (parts, mut body) = req.into_parts();
    let declared = parts.headers.get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let mut over = declared.is_some_and(|n| n > limit as u64);
    let mut buf = Vec::new();
    let mut drained = 0usize;
    loop {
        let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
        let Some(frame) = frame else { break };
        let Ok(frame) = frame else {
            // The client broke off: nothing to answer that it will read.
            return axum::response::IntoResponse::into_response(axum::http::StatusCode::BAD_REQUEST);
        };
        let Ok(data) = frame.into_data() else { continue };
        if over {
            drained += data.len();
            if drained > DRAIN_BYTES {
                break;
            }
        } else if buf.len() + data.len() > limit {
            over = true;
            drained = buf.len() + data.len();
            buf = Vec::new();
        } else {
            buf.extend_from_slice(&data);
        }
    }
    if over {
        let mut res = too_large(&parts);
        if drained > DRAIN_BYTES {
            res.headers_mut().insert(axum::http::header::CONNECTION, HeaderValue::from_static("close"));
        }
        return res;
    }
    next.run(Request::from_parts(parts, Body::from(buf))).await
}
