//! The public partner directory (issue 18): profiles edited by each partner's ADMIN, and a
//! search anyone may run without signing in. A partner is listed when it opted in and one of its
//! partnerships is at a tier that includes a listing, or in a programme that lists every partner
//! who opted in. Only public fields leave this module: a profile, its tier badge, its number of
//! certified people and its publishable accepted stories.
// Coordinates, distances and relevance are measures, not money: floats belong here.
#![allow(clippy::disallowed_types)]

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use entity::{
    enums::ProfileTagKind, exam_result, membership, organization, partner_profile, partner_profile_tag, partnership,
    program, success_story, tier,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    RelationTrait,
    sea_query::{Alias, Cond, Expr, ExprTrait, JoinType, Order, Query, QueryStatementBuilder, SelectStatement},
};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, audit, field, optional_field};
use crate::{
    db,
    domain::{OrganizationKind, ReviewStatus, validate},
    error::{AppError, AppResult},
    policy::{self, Action},
    principal::Principal,
};

pub const MAX_DESCRIPTION: usize = 2_000;
pub const MAX_TAGS: usize = 20;
/// How many partners a `near` search weighs at most (those in the bounding box).
pub const MAX_NEAR_CANDIDATES: u64 = 2_000;
const EARTH_RADIUS_KM: f64 = 6_371.0;

/// What a partner's ADMIN changes on its profile; an absent field stays as it is, a blank text
/// clears it.
#[derive(Default, Debug, Clone)]
pub struct ProfileInput {
    pub description: Option<String>,
    pub logo_url: Option<String>,
    pub website: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    /// Some(None) clears the coordinates.
    pub coordinates: Option<Option<(f64, f64)>>,
    pub languages: Option<Vec<String>>,
    pub expertise: Option<Vec<String>>,
    pub product_lines: Option<Vec<String>>,
    pub opted_in: Option<bool>,
}

/// An https URL (a logo is loaded by visitors' browsers: never plain http).
fn https_url(value: &str) -> Result<String, String> {
    let url = validate::website(value)?;
    if !url.starts_with("https://") {
        return Err(format!("{value:?} must start with https://"));
    }
    if url.len() > 500 {
        return Err("must be at most 500 characters".into());
    }
    Ok(url)
}

fn description(value: &str) -> Result<String, String> {
    validate::plain_text(value, MAX_DESCRIPTION)
}

/// A list of short labels, trimmed, without duplicates (compared case-insensitively).
pub(crate) fn labels(values: &[String], language_codes: bool) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        let v = if language_codes {
            let code = value.trim().to_ascii_lowercase();
            if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(format!("{value:?} is not an ISO 639-1 language code such as de or en"));
            }
            code
        } else {
            validate::name(value, 60)?
        };
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&v)) {
            out.push(v);
        }
    }
    if out.len() > MAX_TAGS {
        return Err(format!("must hold at most {MAX_TAGS} values"));
    }
    Ok(out)
}

/// What a filter compares: lower case, single spaces.
pub fn tag_value(label: &str) -> String {
    label.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// `Alpine Voice AG` -> `alpine-voice-ag`: letters and digits of any script, dashes between.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(60).collect();
    if slug.is_empty() { "partner".into() } else { slug.trim_end_matches('-').to_string() }
}

fn strings(json: &serde_json::Value) -> Vec<String> {
    json.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

impl From<&partner_profile::Model> for ProfileView {
    fn from(m: &partner_profile::Model) -> Self {
        ProfileView {
            languages: strings(&m.languages),
            expertise: strings(&m.expertise),
            product_lines: strings(&m.product_lines),
        }
    }
}

/// The tag lists of a profile, as written.
pub struct ProfileView {
    pub languages: Vec<String>,
    pub expertise: Vec<String>,
    pub product_lines: Vec<String>,
}

/// Creates or changes the profile of `partner_id` (its ADMIN, or staff ADMIN).
pub async fn update_profile(
    ctx: &Ctx,
    principal: Option<&Principal>,
    partner_id: Uuid,
    input: ProfileInput,
) -> AppResult<partner_profile::Model> {
    let principal = policy::signed_in(principal)?;
    policy::can(principal, Action::EditPartnerProfile { partner_id })?;
    let now = ctx.now();
    let txn = db::begin_write(&ctx.db).await?;
    let org = organization::Entity::find_by_id(partner_id)
        .filter(organization::Column::Kind.eq(OrganizationKind::Partner))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("Partner"))?;
    let before = partner_profile::Entity::find_by_id(partner_id).one(&txn).await?;
    let slug = match &before {
        Some(b) => b.slug.clone(),
        None => free_slug(&txn, &org.name).await?,
    };
    let old = before.clone();
    let keep = |f: fn(&partner_profile::Model) -> Option<String>| old.as_ref().and_then(f);
    let description = match &input.description {
        Some(d) => field("description", description(d))?,
        None => old.as_ref().map(|b| b.description.clone()).unwrap_or_default(),
    };
    let logo_url = match &input.logo_url {
        Some(v) => optional_field("logoUrl", Some(v), https_url)?,
        None => keep(|b| b.logo_url.clone()),
    };
    let website = match &input.website {
        Some(v) => optional_field("website", Some(v), validate::website)?,
        None => keep(|b| b.website.clone()).or(org.website.clone()),
    };
    let city = match &input.city {
        Some(v) => optional_field("city", Some(v), |c| validate::name(c, 100))?,
        None => keep(|b| b.city.clone()),
    };
    let country = match &input.country {
        Some(v) => optional_field("country", Some(v), validate::country)?,
        None => keep(|b| b.country.clone()).or(org.country.clone()),
    };
    let (latitude, longitude) = match input.coordinates {
        Some(Some((lat, lon))) => {
            if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
                return Err(AppError::bad_input("coordinates.lat", "must be between -90 and 90"));
            }
            if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
                return Err(AppError::bad_input("coordinates.lon", "must be between -180 and 180"));
            }
            (Some(lat), Some(lon))
        }
        Some(None) => (None, None),
        None => (old.as_ref().and_then(|b| b.latitude), old.as_ref().and_then(|b| b.longitude)),
    };
    let list =
        |name: &str, given: &Option<Vec<String>>, codes: bool, current: fn(&ProfileView) -> Vec<String>| match given {
            Some(v) => field(name, labels(v, codes)),
            None => Ok(old.as_ref().map(|b| current(&ProfileView::from(b))).unwrap_or_default()),
        };
    let languages = list("languages", &input.languages, true, |v| v.languages.clone())?;
    let expertise = list("expertise", &input.expertise, false, |v| v.expertise.clone())?;
    let product_lines = list("productLines", &input.product_lines, false, |v| v.product_lines.clone())?;
    let opted_in = input.opted_in.or(old.as_ref().map(|b| b.opted_in)).unwrap_or(false);
    let body = [description.as_str(), city.as_deref().unwrap_or_default()]
        .into_iter()
        .map(str::to_string)
        .chain(expertise.iter().cloned())
        .chain(product_lines.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let model = partner_profile::ActiveModel {
        organization_id: Set(partner_id),
        slug: Set(slug),
        name: Set(org.name.clone()),
        description: Set(description),
        logo_url: Set(logo_url),
        website: Set(website),
        city: Set(city),
        country: Set(country),
        latitude: Set(latitude),
        longitude: Set(longitude),
        languages: Set(json!(languages)),
        expertise: Set(json!(expertise)),
        product_lines: Set(json!(product_lines)),
        body: Set(body),
        opted_in: Set(opted_in),
        updated_by_user_id: Set(Some(principal.user_id())),
        updated_at: Set(now),
    };
    let saved = if before.is_some() {
        partner_profile::Entity::update(model).exec(&txn).await?
    } else {
        partner_profile::Entity::insert(model).exec_with_returning(&txn).await?
    };
    partner_profile_tag::Entity::delete_many()
        .filter(partner_profile_tag::Column::OrganizationId.eq(partner_id))
        .exec(&txn)
        .await?;
    let mut tags = Vec::new();
    for (kind, values) in [
        (ProfileTagKind::Language, &languages),
        (ProfileTagKind::Expertise, &expertise),
        (ProfileTagKind::ProductLine, &product_lines),
    ] {
        let mut seen = Vec::new();
        for v in values {
            let value = tag_value(v);
            if !seen.contains(&value) {
                seen.push(value.clone());
                tags.push(partner_profile_tag::ActiveModel {
                    organization_id: Set(partner_id),
                    kind: Set(kind),
                    value: Set(value),
                });
            }
        }
    }
    if !tags.is_empty() {
        partner_profile_tag::Entity::insert_many(tags).exec(&txn).await?;
    }
    audit::record(
        &txn,
        Some(principal),
        audit::Event {
            action: "partner_profile.update",
            target_type: "PartnerProfile",
            target_id: Some(partner_id),
            customer_id: None,
            before: before.as_ref().map(public_json),
            after: Some(public_json(&saved)),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

fn public_json(m: &partner_profile::Model) -> serde_json::Value {
    json!({
        "slug": m.slug, "description": m.description, "logoUrl": m.logo_url, "website": m.website,
        "city": m.city, "country": m.country, "latitude": m.latitude, "longitude": m.longitude,
        "languages": m.languages, "expertise": m.expertise, "productLines": m.product_lines, "optedIn": m.opted_in,
    })
}

async fn free_slug(db: &impl ConnectionTrait, name: &str) -> AppResult<String> {
    let base = slugify(name);
    let taken: Vec<String> = partner_profile::Entity::find()
        .select_only()
        .column(partner_profile::Column::Slug)
        .filter(partner_profile::Column::Slug.starts_with(&base))
        .into_tuple()
        .all(db)
        .await?;
    let mut n = 1;
    loop {
        let candidate = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        if !taken.contains(&candidate) {
            return Ok(candidate);
        }
        n += 1;
    }
}

/// A directory search.
#[derive(Default, Debug, Clone)]
pub struct Search {
    pub query: Option<String>,
    pub country: Option<String>,
    pub expertise: Option<String>,
    pub tier_id: Option<Uuid>,
    pub product_line: Option<String>,
    pub language: Option<String>,
    pub near: Option<Near>,
}

#[derive(Debug, Clone, Copy)]
pub struct Near {
    pub lat: f64,
    pub lon: f64,
    pub km: f64,
}

/// Where an entry sits in the directory's order: tier rank (highest first), relevance (highest
/// first), name, id; with `near` and no text, distance (nearest first), name, id.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Position {
    pub rank: i32,
    pub relevance: f64,
    pub distance: Option<f64>,
    pub name: String,
    pub id: Uuid,
}

impl Position {
    fn cmp_in(&self, other: &Position, by_distance: bool) -> Ordering {
        let first = if by_distance {
            self.distance.unwrap_or(f64::MAX).total_cmp(&other.distance.unwrap_or(f64::MAX))
        } else {
            other.rank.cmp(&self.rank).then(other.relevance.total_cmp(&self.relevance))
        };
        first.then_with(|| self.name.cmp(&other.name)).then(self.id.cmp(&other.id))
    }
}

/// One page of results: their positions (the cursor of each), and whether more follow.
pub struct Found {
    pub entries: Vec<Position>,
    pub has_next: bool,
}

/// Search terms as the full-text engines take them: words of letters and digits, each matched
/// as a prefix, all required. None when the text holds no word.
fn terms(query: &str) -> Option<Vec<String>> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| w.to_lowercase().chars().take(40).collect())
        .collect();
    (!words.is_empty()).then_some(words)
}

/// Great-circle distance in km (haversine).
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

/// The box around a point that holds every point within `km` (longitude widens towards the
/// poles; near a pole or the date line the box is the whole band).
pub fn bounding_box(near: Near) -> (f64, f64, f64, f64) {
    let dlat = (near.km / EARTH_RADIUS_KM).to_degrees();
    let (min_lat, max_lat) = ((near.lat - dlat).max(-90.0), (near.lat + dlat).min(90.0));
    let widest = min_lat.abs().max(max_lat.abs());
    if widest >= 89.0 {
        return (min_lat, max_lat, -180.0, 180.0);
    }
    let dlon = (near.km / (EARTH_RADIUS_KM * widest.to_radians().cos())).to_degrees();
    let (min_lon, max_lon) = (near.lon - dlon, near.lon + dlon);
    if min_lon < -180.0 || max_lon > 180.0 {
        return (min_lat, max_lat, -180.0, 180.0);
    }
    (min_lat, max_lat, min_lon, max_lon)
}

fn check(search: &Search) -> AppResult<()> {
    if let Some(n) = search.near {
        if !(n.lat.is_finite() && (-90.0..=90.0).contains(&n.lat)) {
            return Err(AppError::bad_input("filter.near.lat", "must be between -90 and 90"));
        }
        if !(n.lon.is_finite() && (-180.0..=180.0).contains(&n.lon)) {
            return Err(AppError::bad_input("filter.near.lon", "must be between -180 and 180"));
        }
        if !(n.km.is_finite() && n.km > 0.0 && n.km <= 20_000.0) {
            return Err(AppError::bad_input("filter.near.km", "must be more than 0 and at most 20000"));
        }
    }
    if search.query.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(AppError::bad_input("query", "must be at most 200 characters"));
    }
    Ok(())
}

/// The partnerships that list their partner: at a tier with a listing, or in a programme that
/// lists every partner who opted in.
fn listing_partnerships() -> SelectStatement {
    let (ps, t, pr) = (partnership::Entity, tier::Entity, program::Entity);
    Query::select()
        .from(ps)
        .join(JoinType::InnerJoin, t, Expr::col((t, tier::Column::Id)).equals((ps, partnership::Column::TierId)))
        .join(
            JoinType::InnerJoin,
            pr,
            Expr::col((pr, program::Column::Id)).equals((ps, partnership::Column::ProgramId)),
        )
        .and_where(
            Expr::col((ps, partnership::Column::OrganizationId))
                .equals((partner_profile::Entity, partner_profile::Column::OrganizationId)),
        )
        .cond_where(
            Cond::any()
                .add(Expr::col((t, tier::Column::DirectoryListing)).eq(true))
                .add(Expr::col((pr, program::Column::DirectoryListsAll)).eq(true)),
        )
        .to_owned()
}

fn has_tag(kind: ProfileTagKind, value: &str) -> SelectStatement {
    let tg = partner_profile_tag::Entity;
    Query::select()
        .expr(Expr::val(1))
        .from(tg)
        .and_where(
            Expr::col((tg, partner_profile_tag::Column::OrganizationId))
                .equals((partner_profile::Entity, partner_profile::Column::OrganizationId)),
        )
        .and_where(Expr::col((tg, partner_profile_tag::Column::Kind)).eq(kind.as_str()))
        .and_where(Expr::col((tg, partner_profile_tag::Column::Value)).eq(tag_value(value)))
        .to_owned()
}

/// Searches the directory: one statement (the listed profiles matching the text and filters,
/// with their tier rank and relevance, keyset-paged in SQL). With `near`, the statement reads
/// the profiles in the bounding box, and the exact distance filters and orders them here.
pub async fn search(
    db: &impl ConnectionTrait,
    search: &Search,
    after: Option<&Position>,
    first: u64,
) -> AppResult<Found> {
    check(search)?;
    let backend = db.get_database_backend();
    let p = partner_profile::Entity;
    let pid = || Expr::col((p, partner_profile::Column::OrganizationId));
    let words = search.query.as_deref().and_then(terms);
    let by_distance = search.near.is_some() && words.is_none();

    let mut rank = listing_partnerships();
    rank.expr(Expr::col((tier::Entity, tier::Column::Rank)).max());
    let mut inner = Query::select();
    inner
        .expr_as(pid(), Alias::new("id"))
        .expr_as(Expr::col((p, partner_profile::Column::Name)), Alias::new("name"))
        .expr_as(Expr::col((p, partner_profile::Column::Latitude)), Alias::new("latitude"))
        .expr_as(Expr::col((p, partner_profile::Column::Longitude)), Alias::new("longitude"))
        .expr_as(Expr::SubQuery(None, Box::new(rank.into_sub_query_statement())), Alias::new("tier_rank"))
        .from(p)
        .and_where(Expr::col((p, partner_profile::Column::OptedIn)).eq(true));
    match (&words, backend) {
        (None, _) => {
            inner.expr_as(Expr::cust("CAST(0 AS DOUBLE PRECISION)"), Alias::new("relevance"));
        }
        (Some(words), DbBackend::Postgres) => {
            let query = words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & ");
            inner
                .expr_as(
                    Expr::cust_with_values(
                        "CAST(ts_rank(partner_profiles.search, to_tsquery('simple', $1)) AS DOUBLE PRECISION)",
                        [query.clone()],
                    ),
                    Alias::new("relevance"),
                )
                .and_where(Expr::cust_with_values("partner_profiles.search @@ to_tsquery('simple', $1)", [query]));
        }
        (Some(words), _) => {
            let query = words.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" ");
            let found = Alias::new("found");
            let matches = Query::select()
                .column(Alias::new("organization_id"))
                .expr_as(Expr::cust("-bm25(partner_search, 0.0, 10.0, 1.0)"), Alias::new("score"))
                .from(Alias::new("partner_search"))
                .and_where(Expr::cust_with_values("partner_search MATCH ?", [query]))
                .to_owned();
            inner
                .join_subquery(
                    JoinType::InnerJoin,
                    matches,
                    found.clone(),
                    Expr::col((found.clone(), Alias::new("organization_id")))
                        .equals((p, partner_profile::Column::OrganizationId)),
                )
                .expr_as(Expr::col((found, Alias::new("score"))), Alias::new("relevance"));
        }
    }
    if let Some(country) = &search.country {
        inner.and_where(Expr::col((p, partner_profile::Column::Country)).eq(country.trim().to_ascii_uppercase()));
    }
    for (kind, value) in [
        (ProfileTagKind::Expertise, &search.expertise),
        (ProfileTagKind::ProductLine, &search.product_line),
        (ProfileTagKind::Language, &search.language),
    ] {
        if let Some(v) = value {
            inner.and_where(Expr::exists(has_tag(kind, v)));
        }
    }
    if let Some(tier_id) = search.tier_id {
        let mut at = listing_partnerships();
        at.expr(Expr::val(1)).and_where(Expr::col((partnership::Entity, partnership::Column::TierId)).eq(tier_id));
        inner.and_where(Expr::exists(at));
    }
    if let Some(near) = search.near {
        let (min_lat, max_lat, min_lon, max_lon) = bounding_box(near);
        inner
            .and_where(Expr::col((p, partner_profile::Column::Latitude)).between(min_lat, max_lat))
            .and_where(Expr::col((p, partner_profile::Column::Longitude)).between(min_lon, max_lon));
    }

    let d = Alias::new("d");
    let mut outer = Query::select();
    outer
        .columns([
            (d.clone(), Alias::new("id")),
            (d.clone(), Alias::new("name")),
            (d.clone(), Alias::new("tier_rank")),
            (d.clone(), Alias::new("relevance")),
            (d.clone(), Alias::new("latitude")),
            (d.clone(), Alias::new("longitude")),
        ])
        .from_subquery(inner, d.clone())
        .and_where(Expr::col((d.clone(), Alias::new("tier_rank"))).is_not_null());
    if search.near.is_none() {
        if let Some(a) = after {
            let c = |n: &str| Expr::col((d.clone(), Alias::new(n)));
            outer.cond_where(
                Cond::any().add(c("tier_rank").lt(a.rank)).add(
                    Cond::all().add(c("tier_rank").eq(a.rank)).add(
                        Cond::any().add(c("relevance").lt(a.relevance)).add(
                            Cond::all().add(c("relevance").eq(a.relevance)).add(
                                Cond::any()
                                    .add(c("name").gt(a.name.clone()))
                                    .add(Cond::all().add(c("name").eq(a.name.clone())).add(c("id").gt(a.id))),
                            ),
                        ),
                    ),
                ),
            );
        }
        outer
            .order_by((d.clone(), Alias::new("tier_rank")), Order::Desc)
            .order_by((d.clone(), Alias::new("relevance")), Order::Desc)
            .order_by((d.clone(), Alias::new("name")), Order::Asc)
            .order_by((d, Alias::new("id")), Order::Asc)
            .limit(first + 1);
    } else {
        outer.limit(MAX_NEAR_CANDIDATES);
    }
    let rows = db.query_all_raw(backend.build(&outer)).await?;
    let mut entries = Vec::new();
    for row in rows {
        let lat: Option<f64> = row.try_get("", "latitude")?;
        let lon: Option<f64> = row.try_get("", "longitude")?;
        let distance = match (search.near, lat, lon) {
            (Some(n), Some(lat), Some(lon)) => {
                let km = distance_km(n.lat, n.lon, lat, lon);
                if km > n.km {
                    continue;
                }
                Some(km)
            }
            (Some(_), _, _) => continue,
            _ => None,
        };
        entries.push(Position {
            rank: row.try_get("", "tier_rank")?,
            relevance: row.try_get("", "relevance")?,
            distance,
            name: row.try_get("", "name")?,
            id: row.try_get("", "id")?,
        });
    }
    if search.near.is_some() {
        entries.sort_by(|a, b| a.cmp_in(b, by_distance));
        if let Some(a) = after {
            entries.retain(|e| e.cmp_in(a, by_distance) == Ordering::Greater);
        }
    }
    let has_next = entries.len() as u64 > first;
    entries.truncate(usize::try_from(first).unwrap_or(usize::MAX));
    Ok(Found { entries, has_next })
}

/// Listed profiles by id, for a page of results (one statement); a profile that is not listed
/// (any more) is left out.
pub async fn listed_profiles(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<partner_profile::Model>> {
    let mut listed = listing_partnerships();
    listed.expr(Expr::val(1));
    Ok(partner_profile::Entity::find()
        .filter(partner_profile::Column::OrganizationId.is_in(ids.iter().copied()))
        .filter(partner_profile::Column::OptedIn.eq(true))
        .filter(Expr::exists(listed))
        .all(db)
        .await?)
}

/// A listed profile by its slug.
pub async fn by_slug(db: &impl ConnectionTrait, slug: &str) -> AppResult<Option<partner_profile::Model>> {
    let mut listed = listing_partnerships();
    listed.expr(Expr::val(1));
    Ok(partner_profile::Entity::find()
        .filter(partner_profile::Column::Slug.eq(slug))
        .filter(partner_profile::Column::OptedIn.eq(true))
        .filter(Expr::exists(listed))
        .one(db)
        .await?)
}

/// A partner's accepted stories published with the customer's consent (public).
pub fn published_stories(partner_id: Uuid) -> sea_orm::Select<success_story::Entity> {
    success_story::Entity::find()
        .filter(success_story::Column::PartnerId.eq(partner_id))
        .filter(success_story::Column::Status.eq(ReviewStatus::Accepted))
        .filter(success_story::Column::Publishable.eq(true))
}

/// What the directory's filters offer: the values listed partners have.
#[derive(Debug, Clone, Default)]
pub struct Facets {
    pub countries: Vec<String>,
    pub expertise: Vec<String>,
    pub product_lines: Vec<String>,
    pub languages: Vec<String>,
    /// (id, name) of the tiers that list, lowest rank first.
    pub tiers: Vec<(Uuid, String)>,
}

/// The filters' values among listed partners: two statements.
pub async fn facets(db: &impl ConnectionTrait) -> AppResult<Facets> {
    let mut listed = listing_partnerships();
    listed.expr(Expr::val(1));
    let profiles =
        partner_profile::Entity::find().filter(partner_profile::Column::OptedIn.eq(true)).filter(Expr::exists(listed));
    let countries: Vec<Option<String>> =
        profiles.clone().select_only().column(partner_profile::Column::Country).distinct().into_tuple().all(db).await?;
    let mut out = Facets { countries: countries.into_iter().flatten().collect(), ..Default::default() };
    out.countries.sort();
    let listed_ids = profiles.select_only().column(partner_profile::Column::OrganizationId).into_query();
    let tags: Vec<(ProfileTagKind, String)> = partner_profile_tag::Entity::find()
        .select_only()
        .column(partner_profile_tag::Column::Kind)
        .column(partner_profile_tag::Column::Value)
        .distinct()
        .filter(partner_profile_tag::Column::OrganizationId.in_subquery(listed_ids))
        .order_by_asc(partner_profile_tag::Column::Value)
        .into_tuple()
        .all(db)
        .await?;
    for (kind, value) in tags {
        match kind {
            ProfileTagKind::Expertise => out.expertise.push(value),
            ProfileTagKind::ProductLine => out.product_lines.push(value),
            ProfileTagKind::Language => out.languages.push(value),
        }
    }
    let tiers: Vec<(Uuid, String)> = tier::Entity::find()
        .select_only()
        .column(tier::Column::Id)
        .column(tier::Column::Name)
        .join(
            JoinType::InnerJoin,
            tier::Entity::belongs_to(program::Entity).from(tier::Column::ProgramId).to(program::Column::Id).into(),
        )
        .filter(
            Cond::any()
                .add(Expr::col((tier::Entity, tier::Column::DirectoryListing)).eq(true))
                .add(Expr::col((program::Entity, program::Column::DirectoryListsAll)).eq(true)),
        )
        .order_by_asc(tier::Column::Rank)
        .into_tuple()
        .all(db)
        .await?;
    out.tiers = tiers;
    Ok(out)
}

/// What a directory entry shows beside its profile, per partner: the badge of its highest
/// listing tier, its people with a valid certification, and its accepted publishable stories.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    pub tier: Option<tier::Model>,
    pub certified_people: i64,
    pub stories: Vec<success_story::Model>,
}

/// The extras of some listed partners: three statements whatever their number.
pub async fn extras(
    db: &impl ConnectionTrait,
    partners: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<std::collections::HashMap<Uuid, Extras>> {
    let mut out: std::collections::HashMap<Uuid, Extras> = partners.iter().map(|id| (*id, Extras::default())).collect();
    if partners.is_empty() {
        return Ok(out);
    }
    let (ps, t, pr) = (partnership::Entity, tier::Entity, program::Entity);
    let tiers: Vec<(partnership::Model, Option<tier::Model>)> = partnership::Entity::find()
        .select_also(tier::Entity)
        .join(JoinType::InnerJoin, partnership::Relation::Tier.def())
        .join(
            JoinType::InnerJoin,
            partnership::Entity::belongs_to(program::Entity)
                .from(partnership::Column::ProgramId)
                .to(program::Column::Id)
                .into(),
        )
        .filter(partnership::Column::OrganizationId.is_in(partners.iter().copied()))
        .filter(
            Cond::any()
                .add(Expr::col((t, tier::Column::DirectoryListing)).eq(true))
                .add(Expr::col((pr, program::Column::DirectoryListsAll)).eq(true)),
        )
        .all(db)
        .await?;
    let _ = ps;
    for (place, tier) in tiers {
        if let (Some(e), Some(tier)) = (out.get_mut(&place.organization_id), tier)
            && e.tier.as_ref().is_none_or(|best| tier.rank > best.rank)
        {
            e.tier = Some(tier);
        }
    }
    let (x, m) = (exam_result::Entity, membership::Entity);
    let certified: Vec<(Uuid, i64)> = exam_result::Entity::find()
        .select_only()
        .column_as(Expr::col((m, membership::Column::OrganizationId)), "organization_id")
        .column_as(Expr::col((x, exam_result::Column::UserId)).count_distinct(), "people")
        .join(
            JoinType::InnerJoin,
            exam_result::Entity::belongs_to(membership::Entity)
                .from(exam_result::Column::UserId)
                .to(membership::Column::UserId)
                .into(),
        )
        .join(
            JoinType::InnerJoin,
            exam_result::Entity::belongs_to(entity::course::Entity)
                .from(exam_result::Column::CourseId)
                .to(entity::course::Column::Id)
                .into(),
        )
        .filter(membership::Column::OrganizationId.is_in(partners.iter().copied()))
        .filter(entity::course::Column::Kind.eq(crate::domain::CourseKind::Certifying))
        .filter(Cond::any().add(exam_result::Column::ExpiresAt.is_null()).add(exam_result::Column::ExpiresAt.gt(now)))
        .group_by(Expr::col((m, membership::Column::OrganizationId)))
        .into_tuple()
        .all(db)
        .await?;
    for (org, people) in certified {
        if let Some(e) = out.get_mut(&org) {
            e.certified_people = people;
        }
    }
    let stories = success_story::Entity::find()
        .filter(success_story::Column::PartnerId.is_in(partners.iter().copied()))
        .filter(success_story::Column::Status.eq(ReviewStatus::Accepted))
        .filter(success_story::Column::Publishable.eq(true))
        .order_by_asc(success_story::Column::Id)
        .all(db)
        .await?;
    for s in stories {
        if let Some(e) = out.get_mut(&s.partner_id) {
            e.stories.push(s);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_letters_of_any_script_and_dash_the_rest() {
        assert_eq!(slugify("Alpine Voice AG"), "alpine-voice-ag");
        assert_eq!(slugify("  Łódź  Telecom & Co. "), "łódź-telecom-co");
        assert_eq!(slugify("!!!"), "partner");
    }

    #[test]
    fn distances_are_great_circle_and_boxes_hold_them() {
        // Vienna to Zurich: about 593 km.
        let km = distance_km(48.2082, 16.3738, 47.3769, 8.5417);
        assert!((km - 593.0).abs() < 5.0, "{km}");
        let near = Near { lat: 48.2082, lon: 16.3738, km: 600.0 };
        let (a, b, c, d) = bounding_box(near);
        assert!((a..=b).contains(&47.3769) && (c..=d).contains(&8.5417));
        let polar = bounding_box(Near { lat: 89.5, lon: 0.0, km: 100.0 });
        assert_eq!((polar.2, polar.3), (-180.0, 180.0));
    }

    #[test]
    fn search_words_are_letters_and_digits_only() {
        assert_eq!(terms("  VoIP, \"Teams\" -*"), Some(vec!["voip".into(), "teams".into()]));
        assert_eq!(terms("\" * ( )"), None);
    }

    #[test]
    fn positions_order_by_tier_then_relevance_then_name() {
        let at = |rank, relevance: f64, name: &str| Position {
            rank,
            relevance,
            distance: None,
            name: name.into(),
            id: Uuid::nil(),
        };
        let mut v = [at(1, 0.9, "b"), at(2, 0.1, "z"), at(1, 0.9, "a"), at(1, 0.95, "c")];
        v.sort_by(|a, b| a.cmp_in(b, false));
        let names: Vec<_> = v.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["z", "c", "a", "b"]);
    }
}
