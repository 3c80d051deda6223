//! GraphiQL, served from the binary: its browser build and React are vendored from the npm
//! packages (assets/graphiql, refreshed by scripts/vendor-graphiql), so the page needs no CDN and
//! runs under a Content-Security-Policy that allows nothing but this server.

use axum::{
    extract::Path,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

/// Scripts and styles from this origin only, requests to this origin only; fonts and icons are
/// data: URLs inside graphiql.min.css. The page cannot be framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! assets {
    ($($name:literal => $type:literal),* $(,)?) => {
        &[$(Asset { name: $name, content_type: $type, body: include_bytes!(concat!("../../assets/graphiql/", $name)) }),*]
    };
}

const ASSETS: &[Asset] = assets! {
    "graphiql.min.js" => "text/javascript; charset=utf-8",
    "graphiql.min.css" => "text/css; charset=utf-8",
    "react.production.min.js" => "text/javascript; charset=utf-8",
    "react-dom.production.min.js" => "text/javascript; charset=utf-8",
    "app.js" => "text/javascript; charset=utf-8",
    "page.css" => "text/css; charset=utf-8",
    "LICENSE.graphiql" => "text/plain; charset=utf-8",
    "LICENSE.react" => "text/plain; charset=utf-8",
    "LICENSE.react-dom" => "text/plain; charset=utf-8",
};

const PAGE: &str = include_str!("../../assets/graphiql/index.html");

fn with_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// The GraphiQL page.
pub fn page() -> Response {
    with_security_headers(
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], PAGE)
            .into_response(),
    )
}

/// `/graphiql/<file>`: one of the embedded assets.
pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(asset) => with_security_headers(
            ([(header::CONTENT_TYPE, asset.content_type), (header::CACHE_CONTROL, "public, max-age=3600")], asset.body)
                .into_response(),
        ),
        None => super::error_response(crate::error::AppError::NotFound("GraphiQL asset")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_embedded_assets() {
        for reference in PAGE.split(['"', '\'']).filter(|s| s.starts_with('/') || s.contains("://")) {
            let name = reference.strip_prefix("/graphiql/").unwrap_or_else(|| panic!("{reference} is not ours"));
            assert!(ASSETS.iter().any(|a| a.name == name), "{name} is not embedded");
        }
        assert!(!PAGE.contains("<script>"), "no inline script under the CSP");
    }
}
