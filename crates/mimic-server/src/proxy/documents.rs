//! Azure-owned documents that clients fetch from fixed URLs rather than from a cloud endpoint,
//! served by Mimic behind the proxy so they describe this Mimic (and need no internet).
//!
//! - `https://azcliprod.blob.core.windows.net/cli/vm/aliases.json`: az's `vm_image_alias_doc`
//!   for AzureCloud and the sovereign clouds (`aliases_master.json` for AzureStack's profile),
//!   azure/cli/core/cloud.py since azure-cli 2.81. `az vm create --image Ubuntu2204` reads
//!   `outputs.aliases.value` of it and warns (twice) when it cannot. The same document as ARM's
//!   `GET /mimic/vm-image-aliases`, so the aliases name images Mimic's catalog answers.
//!
//! Any other blob of that account answers as Azure Storage does for a missing blob (404,
//! `x-ms-error-code: BlobNotFound`, its XML error): this host is decrypted, not relayed.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// The host whose documents Mimic serves.
pub const CLI_BLOB_HOST: &str = "azcliprod.blob.core.windows.net";

pub fn router() -> Router {
    Router::new()
        .route("/cli/vm/aliases.json", get(alias_doc))
        .route("/cli/vm/aliases_master.json", get(alias_doc))
        .fallback(blob_not_found)
}

async fn alias_doc() -> Response {
    crate::arm::vm_image_alias_doc()
}

async fn blob_not_found() -> Response {
    let request_id = uuid::Uuid::new_v4();
    let time = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ");
    let body = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.\nRequestId:{request_id}\nTime:{time}</Message></Error>"
    );
    let mut r = (StatusCode::NOT_FOUND, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    h.insert("x-ms-error-code", HeaderValue::from_static("BlobNotFound"));
    if let Ok(v) = HeaderValue::from_str(&request_id.to_string()) {
        h.insert("x-ms-request-id", v);
    }
    r
}
