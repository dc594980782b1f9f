//! The HTTP/JSON face of the service (axum). Conversion only: the sessions, their journal and
//! everything about Ruchy are elsewhere.
//!
//! | request | reply |
//! |---|---|
//! | `POST /sessions` (body optional: `{"limits": {...}}`) | 201 `{"id": ...}` |
//! | `POST /sessions/{id}/cells` `{"source": ...}` | 200 the cell result (a failed cell too) |
//! | `GET /sessions/{id}/variables` | 200 `{"variables": [...]}` |
//! | `DELETE /sessions/{id}` | 204 |
//! | `GET /metrics` | 200 Prometheus text |
//! | `GET /health` | 200 `{"ok": true}` |
//!
//! Errors are JSON `{"error": MESSAGE}`: 400 bad JSON or fields, 401 without the token, 404
//! unknown session or path, 413 a body over [`MAX_BODY`], 503 the store failed (nothing was
//! acknowledged) or the session cap is reached, 500 anything else.

use super::sessions::Service;
use super::shards::Failure;
use crate::json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;

/// Largest request body: 1 MiB.
pub const MAX_BODY: usize = 1 << 20;

#[derive(Clone)]
struct App {
    service: Arc<Service>,
    token: Option<Arc<str>>,
}

/// The service's routes over `service`; with `token`, every request needs
/// `Authorization: Bearer TOKEN`.
pub fn router(service: Arc<Service>, token: Option<String>) -> Router {
    let app = App {
        service,
        token: token.map(Arc::from),
    };
    Router::new()
        .route("/sessions", post(create))
        .route("/sessions/{id}", axum::routing::delete(delete))
        .route("/sessions/{id}/cells", post(cell))
        .route("/sessions/{id}/variables", get(variables))
        .route("/metrics", get(metrics))
        .route("/health", get(|| async { Json(json!({ "ok": true })) }))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such path") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(app.clone(), auth))
        .with_state(app)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::NotFound => error(StatusCode::NOT_FOUND, "no such session"),
            Failure::Bad(m) => error(StatusCode::BAD_REQUEST, m),
            Failure::Full => error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the service holds as many sessions as it may",
            ),
            Failure::Store(m) => error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the cell was not recorded and the session is as it was before it: {m}"),
            ),
            Failure::Internal(m) => error(StatusCode::INTERNAL_SERVER_ERROR, m),
        }
    }
}

/// Compares in time independent of where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn auth(State(app): State<App>, headers: HeaderMap, req: Request, next: Next) -> Response {
    if let Some(token) = &app.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| same(g.as_bytes(), token.as_bytes())) {
            let mut r = error(StatusCode::UNAUTHORIZED, "a bearer token is required");
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            return r;
        }
    }
    next.run(req).await
}

/// The body as a JSON object (an empty body is `{}` when `empty_ok`).
fn body_json(body: Result<Bytes, BytesRejection>, empty_ok: bool) -> Result<Value, Response> {
    let bytes = body.map_err(|r| error(r.status(), r.body_text()))?;
    if bytes.is_empty() && empty_ok {
        return Ok(json!({}));
    }
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {e}"),
        )
    })?;
    if !v.is_object() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object",
        ));
    }
    Ok(v)
}

/// Ids are 32 lowercase hex digits; anything else cannot name a session.
fn valid_id(id: &str) -> Result<(), Response> {
    if id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(Failure::NotFound.into_response())
    }
}

async fn create(State(app): State<App>, body: Result<Bytes, BytesRejection>) -> Response {
    let v = match body_json(body, true) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let limits = v.get("limits").cloned().unwrap_or_else(|| json!({}));
    match app.service.create(&limits).await {
        Ok(id) => (StatusCode::CREATED, Json(json!({ "id": id }))).into_response(),
        Err(f) => f.into_response(),
    }
}

async fn cell(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(r) = valid_id(&id) {
        return r;
    }
    let v = match body_json(body, false) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(source) = v.get("source").and_then(Value::as_str) else {
        return error(
            StatusCode::BAD_REQUEST,
            "the body needs \"source\": a string",
        );
    };
    match app.service.execute(&id, source.to_string()).await {
        Ok(r) => Json(json::cell_result(&r)).into_response(),
        Err(f) => f.into_response(),
    }
}

async fn variables(State(app): State<App>, Path(id): Path<String>) -> Response {
    if let Err(r) = valid_id(&id) {
        return r;
    }
    match app.service.variables(&id).await {
        Ok(v) => Json(json!({ "variables": json::variables(&v) })).into_response(),
        Err(f) => f.into_response(),
    }
}

async fn delete(State(app): State<App>, Path(id): Path<String>) -> Response {
    if let Err(r) = valid_id(&id) {
        return r;
    }
    match app.service.delete(&id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(f) => f.into_response(),
    }
}

async fn metrics(State(app): State<App>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.service.metrics.render(),
    )
        .into_response()
}
