//! `/partners` and `/partners/<slug>`: the directory for visitors, on the service GraphQL's
//! `directory` uses. A GET form (nothing to protect from cross-site requests), results with tier
//! badges, and a "next page" link carrying the cursor.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use minijinja::context;

use super::pages;
use crate::{
    AppState,
    error::AppError,
    graphql::directory::{DirectoryFilter, directory_page},
    ids::{self, NodeType},
    service::directory::{self, ProfileView},
};

#[derive(serde::Deserialize, serde::Serialize, Default, Clone)]
pub struct SearchForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    tier: String,
    #[serde(default)]
    expertise: String,
    #[serde(default)]
    product_line: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    after: String,
}

fn some(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

fn tier_class(name: &str) -> String {
    name.to_ascii_lowercase().chars().filter(char::is_ascii_alphanumeric).collect()
}

fn link(form: &SearchForm, after: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in [
        ("q", &form.q),
        ("country", &form.country),
        ("tier", &form.tier),
        ("expertise", &form.expertise),
        ("product_line", &form.product_line),
        ("language", &form.language),
    ] {
        if !value.is_empty() {
            query.append_pair(key, value);
        }
    }
    if let Some(after) = after {
        query.append_pair("after", after);
    }
    format!("/partners?{}", query.finish())
}

/// A description's first sentence or 200 characters, for a result card.
fn summary(text: &str) -> String {
    let first: String = text.chars().take(200).collect();
    if first.len() < text.len() { format!("{}…", first.trim_end()) } else { first }
}

pub async fn search(State(state): State<AppState>, Query(form): Query<SearchForm>) -> Response {
    let ctx = &state.ctx;
    let facets = match directory::facets(&ctx.db).await {
        Ok(f) => f,
        Err(e) => return failed(&e),
    };
    let filter = DirectoryFilter {
        country: some(&form.country),
        expertise: some(&form.expertise),
        tier: some(&form.tier).map(async_graphql::ID),
        product_line: some(&form.product_line),
        language: some(&form.language),
        near: None,
    };
    let page = directory_page(ctx, some(&form.q), Some(filter), Some(10), some(&form.after)).await;
    let (results, next, error) = match page {
        Ok(page) => {
            let ids: Vec<_> = page.edges.iter().map(|e| e.node.profile.organization_id).collect();
            let extras = match directory::extras(&ctx.db, &ids, ctx.now()).await {
                Ok(x) => x,
                Err(e) => return failed(&e),
            };
            let next = page.has_next_page.then(|| page.edges.last().map(|e| e.cursor.clone())).flatten();
            let results: Vec<_> = page
                .edges
                .iter()
                .map(|e| {
                    let p = &e.node.profile;
                    let x = extras.get(&p.organization_id).cloned().unwrap_or_default();
                    let tier = x.tier.map(|t| t.name);
                    context! {
                        name => p.name, path => format!("/partners/{}", p.slug), city => p.city,
                        country => p.country, summary => summary(&p.description),
                        tier_class => tier.as_deref().map(tier_class), tier => tier,
                        certified => x.certified_people, expertise => ProfileView::from(p).expertise,
                    }
                })
                .collect();
            (results, next.map(|c| async_graphql::connection::CursorType::encode_cursor(&c)), None)
        }
        // Bad input (a filter or cursor from an edited address) is said in words, with the form
        // as the visitor filled it.
        Err(e) => (Vec::new(), None, Some(e.public_message())),
    };
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    pages::render(
        status,
        "partners.html",
        context! {
            title => "Find a partner",
            form => form.clone(),
            facets => facets_view(&facets),
            results => results,
            error => error,
            next_link => next.as_deref().map(|c| link(&form, Some(c))),
            first_link => (!form.after.is_empty()).then(|| link(&form, None)),
        },
    )
}

fn facets_view(f: &directory::Facets) -> minijinja::Value {
    let tiers: Vec<_> =
        f.tiers.iter().map(|(id, name)| context! { id => ids::encode(NodeType::Tier, *id), name => name }).collect();
    context! {
        countries => f.countries, expertise => f.expertise, product_lines => f.product_lines,
        languages => f.languages, tiers => tiers,
    }
}

pub async fn profile(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let ctx = &state.ctx;
    let profile = match directory::by_slug(&ctx.db, &slug).await {
        Ok(Some(p)) => p,
        Ok(None) => return pages::not_found("Partner not found", "No listed partner has this address."),
        Err(e) => return failed(&e),
    };
    let extras = match directory::extras(&ctx.db, &[profile.organization_id], ctx.now()).await {
        Ok(mut x) => x.remove(&profile.organization_id).unwrap_or_default(),
        Err(e) => return failed(&e),
    };
    let view = ProfileView::from(&profile);
    let tier = extras.tier.map(|t| t.name);
    let stories: Vec<_> = extras
        .stories
        .iter()
        .map(|s| context! { title => s.title, summary => s.summary, customer => s.customer_name })
        .collect();
    pages::render(
        StatusCode::OK,
        "partner.html",
        context! {
            title => profile.name,
            p => context! {
                name => profile.name, description => profile.description, logo => profile.logo_url,
                website => profile.website, city => profile.city, country => profile.country,
                tier_class => tier.as_deref().map(tier_class), tier => tier,
                certified => extras.certified_people, languages => view.languages,
                expertise => view.expertise, product_lines => view.product_lines, stories => stories,
            },
        },
    )
}

fn failed(e: &AppError) -> Response {
    tracing::error!(error = %e, "a directory page failed");
    pages::render(
        StatusCode::INTERNAL_SERVER_ERROR,
        "not_found.html",
        context! { title => "Something went wrong", message => "The directory could not be read. Please try again in a moment." },
    )
}
