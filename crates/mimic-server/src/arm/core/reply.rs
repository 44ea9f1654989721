//! What a handler answers: status, headers and a JSON body, as values. Rendering to HTTP happens
//! once, at the edge (`arm::handle`); a template deployment reads the same values directly.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    /// Boxed: most replies carry none, and a small `Reply` keeps `Result<_, Reply>` cheap.
    pub headers: Box<HeaderMap>,
    /// `None`: no body at all (ARM's 202s and 204s carry none).
    pub body: Option<Value>,
}

impl Reply {
    /// A reply with no body.
    pub fn status(status: StatusCode) -> Self {
        Reply { status, headers: Box::default(), body: None }
    }

    /// A reply with `body` (a wire type) as its JSON.
    pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Self {
        // Wire types serialise to JSON objects; a failure here is a bug in a wire type, answered
        // as an empty body rather than a crash.
        let body = serde_json::to_value(body).unwrap_or_else(|e| {
            tracing::error!(error = %e, "wire type did not serialise");
            Value::Null
        });
        Reply { status, headers: Box::default(), body: Some(body) }
    }

    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The body, or JSON `null` when there is none.
    pub fn body_or_null(&self) -> &Value {
        static NULL: Value = Value::Null;
        self.body.as_ref().unwrap_or(&NULL)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut res = match self.body {
            Some(body) => (self.status, Json(body)).into_response(),
            None => self.status.into_response(),
        };
        res.headers_mut().extend(*self.headers);
        res
    }
}

/// `Reply::json`, under the name the handlers have always used.
pub fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Reply {
    Reply::json(status, body)
}
