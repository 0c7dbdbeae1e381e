//! The dashboard: one HTML page and its script and stylesheet, compiled into the
//! binary so a server needs no files beside it and no front-end build.
//!
//! The page links its assets with a content hash in the query (`?v=`), so an asset
//! fetched under the current hash may be cached for good, while the page itself is
//! revalidated on every load and picks up a new binary's assets at once. The page
//! runs no inline script or style, which lets its Content-Security-Policy allow only
//! this origin.

use std::sync::LazyLock;

use axum::extract::RawQuery;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::extract::PathParam;
use crate::problem_type::ProblemType;

const INDEX_HTML: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");
const ICON_SVG: &str = include_str!("../assets/icon.svg");

/// Only this origin, for every kind of resource; nothing may frame the page.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'; object-src 'none'";

/// Cache lifetime of an asset requested under its current hash.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else is revalidated (cheaply, by its ETag) on every use.
const REVALIDATE: &str = "no-cache";

/// Changes whenever any asset does; the page names its assets with it.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let hash = [INDEX_HTML, APP_JS, APP_CSS, ICON_SVG]
        .iter()
        .fold(FNV_OFFSET, |hash, text| fnv1a(hash, text.as_bytes()));
    format!("{hash:016x}")
});

static PAGE: LazyLock<String> = LazyLock::new(|| INDEX_HTML.replace("{{version}}", &VERSION));

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a: a content fingerprint for cache busting, not a security boundary.
fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// `GET /`: the dashboard page.
pub async fn index(request: HeaderMap) -> Response {
    let mut response = respond(
        &request,
        PAGE.as_str(),
        "text/html; charset=utf-8",
        REVALIDATE,
    );
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// `GET /assets/{file}`: the page's script, stylesheet and icon.
pub async fn asset(
    PathParam(file): PathParam,
    RawQuery(query): RawQuery,
    request: HeaderMap,
) -> Response {
    let (body, content_type) =
        match file.as_str() {
            "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
            "app.css" => (APP_CSS, "text/css; charset=utf-8"),
            "icon.svg" => (ICON_SVG, "image/svg+xml"),
            _ => {
                return ApiError::new(ProblemType::NoAsset, format!(
                    "the dashboard has no asset {file:?}; it serves app.js, app.css and icon.svg"
                ),
            )
            .into_response();
            }
        };
    let current = query
        .as_deref()
        .is_some_and(|q| q.split('&').any(|pair| pair == format!("v={}", *VERSION)));
    let cache = if current { IMMUTABLE } else { REVALIDATE };
    respond(&request, body, content_type, cache)
}

/// 200 with `body`, or 304 when the client already holds this version.
fn respond(
    request: &HeaderMap,
    body: &'static str,
    content_type: &'static str,
    cache: &'static str,
) -> Response {
    let etag = format!("\"{}\"", *VERSION);
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = body.into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}
