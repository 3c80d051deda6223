//! The public pages (issue 18: the directory and the tender forms): server-rendered HTML from minijinja templates with one
//! stylesheet and no script, under a strict Content-Security-Policy.

use std::sync::OnceLock;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use minijinja::{AutoEscape, Environment};

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../../templates/pages/layout.html")),
    ("partners.html", include_str!("../../templates/pages/partners.html")),
    ("partner.html", include_str!("../../templates/pages/partner.html")),
    ("not_found.html", include_str!("../../templates/pages/not_found.html")),
    ("tender_new.html", include_str!("../../templates/pages/tender_new.html")),
    ("tender_sent.html", include_str!("../../templates/pages/tender_sent.html")),
    ("tender_confirm.html", include_str!("../../templates/pages/tender_confirm.html")),
    ("tender_manage.html", include_str!("../../templates/pages/tender_manage.html")),
];

const STYLESHEET: &str = include_str!("../../assets/site.css");

/// Scripts nowhere, styles and forms from this origin only, images (partner logos) over https.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' https:; form-action 'self'; \
                       base-uri 'none'; frame-ancestors 'none'";

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(error = %e, template = name, "a page template does not parse");
            }
        }
        env
    })
}

/// Renders a page with the headers every public page carries.
pub fn render(status: StatusCode, template: &str, vars: minijinja::Value) -> Response {
    let html = environment().get_template(template).and_then(|t| t.render(vars)).unwrap_or_else(|e| {
        tracing::error!(error = %e, template, "a page failed to render");
        "<!doctype html><html lang=\"en\"><title>Error</title><p>internal error</p></html>".into()
    });
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// A page that says what is missing, in words.
pub fn not_found(title: &str, message: &str) -> Response {
    render(StatusCode::NOT_FOUND, "not_found.html", minijinja::context! { title, message })
}

pub async fn stylesheet() -> Response {
    let mut response = STYLESHEET.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        for (name, _) in super::TEMPLATES {
            assert!(super::environment().get_template(name).is_ok(), "{name}");
        }
    }
}
