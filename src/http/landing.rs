//! The page at `/`: where a visitor (or a sign-in error page's "Back") lands. It links what a
//! newcomer looks for: GraphiQL, the schema, sign-in. Plain HTML, no script.

use axum::{
    extract::{Query, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

use crate::AppState;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[derive(serde::Deserialize)]
pub struct Landing {
    /// An affiliate's referral code, from its referral link.
    #[serde(rename = "ref")]
    referral: Option<String>,
}

pub async fn page(State(state): State<AppState>, Query(landing): Query<Landing>) -> Response {
    let referral = match landing.referral.as_deref() {
        Some(code) => match crate::service::ledger::referrals::referred_by(&state.ctx.db, code).await {
            Ok(Some((partner, code))) => format!(
                "<p><strong>You were referred by {}.</strong> Give the code <code>{}</code> when your \
                 account is opened, so that {} is credited.</p>",
                escape(&partner),
                escape(&code),
                escape(&partner)
            ),
            Ok(None) => "<p>This referral link's code is not known; ask the partner who sent it.</p>".into(),
            // The page still serves its links while the database is away.
            Err(_) => "<p>This referral link cannot be checked right now; try again later.</p>".into(),
        },
        None => String::new(),
    };
    let mut sign_in = String::new();
    for provider in state.providers.list() {
        sign_in.push_str(&format!(
            "<li><a href=\"/auth/login?provider={}\">Sign in with {}</a></li>",
            escape(&provider.key),
            escape(&provider.display_name)
        ));
    }
    if sign_in.is_empty() {
        sign_in.push_str("<li>No sign-in provider is configured on this server; use an API token.</li>");
    }
    let graphiql = if state.settings.graphql.introspection {
        "<li><a href=\"/graphql\">GraphiQL</a>: write and run queries in the browser (paste an API token in its Headers tab)</li>"
    } else {
        ""
    };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>partnerhub</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem}}</style>\
         </head><body><h1>partnerhub</h1>\
         <p>The partner portal's API: one GraphQL endpoint at <code>/graphql</code> for partner dashboards, \
         customers and the vendor.</p>{referral}<ul>{graphiql}\
         <li><a href=\"/schema.graphql\">The schema</a> (SDL, with a description of every type and field)</li>\
         {sign_in}</ul></body></html>"
    );
    let mut response =
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], body)
            .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// The schema as SDL, what `partnerhub schema` prints and schema.graphql holds.
pub async fn schema() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], crate::graphql::sdl()).into_response()
}
