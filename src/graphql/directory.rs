//! The public partner directory in GraphQL (issue 18): `directory` and `directoryEntry` answer
//! without sign-in and show public fields only; `updatePartnerProfile` is for the partner's
//! ADMIN. The pages under /partners render the same service.
// Coordinates, distances and relevance are measures, not money: floats belong here.
#![allow(clippy::disallowed_types)]

use async_graphql::{
    Context, ID, InputObject, MaybeUndefined, Object, SimpleObject,
    connection::{Connection, CursorType, Edge, EmptyFields},
};
use entity::{partner_profile, success_story};

use super::{
    connection::{
        DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageArgs, decode_opaque, encode_opaque, first_page_of, paginate,
        plain_first_page,
    },
    context::ContextExt,
    loaders::load_with,
};
use crate::{
    error::AppError,
    ids::{self, NodeType},
    service::directory::{self, Near, Position, ProfileInput, ProfileView, Search},
};

/// A position in the directory's order (opaque to clients).
#[derive(Clone, Debug, PartialEq)]
pub struct DirectoryCursor(pub Position);

impl CursorType for DirectoryCursor {
    type Error = String;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        decode_opaque("d1:", s)
            .and_then(|json| serde_json::from_str(&json).ok())
            .map(DirectoryCursor)
            .ok_or_else(|| "is not a cursor from this API".to_string())
    }

    fn encode_cursor(&self) -> String {
        encode_opaque("d1:", &serde_json::to_string(&self.0).unwrap_or_default())
    }
}

/// Where a partner is.
#[derive(SimpleObject, InputObject, Clone, Copy)]
#[graphql(input_name = "CoordinatesInput")]
pub struct Coordinates {
    /// Latitude in degrees, -90 to 90.
    pub lat: f64,
    /// Longitude in degrees, -180 to 180.
    pub lon: f64,
}

/// A point and a distance: partners within `km` of it.
#[derive(InputObject)]
pub struct NearInput {
    /// Latitude in degrees, -90 to 90.
    pub lat: f64,
    /// Longitude in degrees, -180 to 180.
    pub lon: f64,
    /// The distance in km, more than 0 and at most 20000.
    pub km: f64,
}

/// Narrows a directory search; every given filter must hold.
#[derive(InputObject, Default)]
pub struct DirectoryFilter {
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    /// An expertise, as partners list it (case-insensitive).
    pub expertise: Option<String>,
    /// A tier (id of a `Tier`): partners listed at that tier.
    pub tier: Option<ID>,
    /// A product line (case-insensitive).
    pub product_line: Option<String>,
    /// An ISO 639-1 language code such as de.
    pub language: Option<String>,
    /// Partners within a distance of a point; ordered nearest first when no text is searched.
    pub near: Option<NearInput>,
}

/// A partner's tier, as the directory shows it.
#[derive(SimpleObject)]
pub struct TierBadge {
    /// The tier's name, such as Gold.
    pub name: String,
    /// Its rank in the programme: higher is better.
    pub rank: i32,
}

/// A success story the partner published with its customer's consent.
pub struct PublicStory(pub success_story::Model);

/// A customer reference in the directory (accepted by staff, published with consent).
#[Object]
impl PublicStory {
    /// Opaque identifier.
    async fn id(&self) -> ID {
        ID(ids::encode(NodeType::SuccessStory, self.0.id))
    }
    /// The story's title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// What the partner did.
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    /// The customer, named with its consent.
    async fn customer_name(&self) -> &str {
        &self.0.customer_name
    }
}

pub struct DirectoryEntry {
    pub profile: partner_profile::Model,
    pub distance_km: Option<f64>,
}

/// A partner in the public directory: public fields only.
#[Object]
impl DirectoryEntry {
    /// The partner organisation's id.
    async fn partner_id(&self) -> ID {
        ID(ids::encode(NodeType::Organization, self.profile.organization_id))
    }
    /// The partner's name.
    async fn name(&self) -> &str {
        &self.profile.name
    }
    /// The profile page's address part: `/partners/<slug>`.
    async fn slug(&self) -> &str {
        &self.profile.slug
    }
    /// The profile page, relative to this server.
    async fn profile_path(&self) -> String {
        format!("/partners/{}", self.profile.slug)
    }
    /// What the partner does (plain text).
    async fn description(&self) -> &str {
        &self.profile.description
    }
    /// The logo (https).
    async fn logo_url(&self) -> Option<&str> {
        self.profile.logo_url.as_deref()
    }
    /// The partner's web site.
    async fn website(&self) -> Option<&str> {
        self.profile.website.as_deref()
    }
    /// Its city.
    async fn city(&self) -> Option<&str> {
        self.profile.city.as_deref()
    }
    /// Its country (ISO 3166-1 alpha-2).
    async fn country(&self) -> Option<&str> {
        self.profile.country.as_deref()
    }
    /// Where it is.
    async fn coordinates(&self) -> Option<Coordinates> {
        Some(Coordinates { lat: self.profile.latitude?, lon: self.profile.longitude? })
    }
    /// Languages it works in (ISO 639-1).
    async fn languages(&self) -> Vec<String> {
        ProfileView::from(&self.profile).languages
    }
    /// What it is expert in.
    async fn expertise(&self) -> Vec<String> {
        ProfileView::from(&self.profile).expertise
    }
    /// The product lines it sells and supports.
    async fn product_lines(&self) -> Vec<String> {
        ProfileView::from(&self.profile).product_lines
    }
    /// Whether the partner chose to appear in the directory.
    async fn opted_in(&self) -> bool {
        self.profile.opted_in
    }
    /// The badge of its highest tier that includes a listing; null when none does.
    async fn tier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<TierBadge>> {
        let extras = load_with::<super::loaders::DirectoryExtras>(ctx, self.profile.organization_id).await?;
        Ok(extras.and_then(|e| e.tier).map(|t| TierBadge { name: t.name, rank: t.rank }))
    }
    /// How many of its people hold a valid certification.
    async fn certified_people(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let extras = load_with::<super::loaders::DirectoryExtras>(ctx, self.profile.organization_id).await?;
        Ok(extras.map_or(0, |e| i32::try_from(e.certified_people).unwrap_or(i32::MAX)))
    }
    /// Its accepted success stories published with the customer's consent, oldest first.
    #[graphql(complexity = "crate::graphql::connection::cost(first, None, child_complexity)")]
    async fn stories(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when neither `first` nor `last` is given).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
    ) -> async_graphql::Result<Page<PublicStory>> {
        let args = PageArgs::of(ctx, first, after, None, None);
        let select = directory::published_stories(self.profile.organization_id);
        let db = &ctx.service().db;
        if let Some(size) = plain_first_page(&args)? {
            let extras = load_with::<super::loaders::DirectoryExtras>(ctx, self.profile.organization_id).await?;
            let mut rows = extras.map(|e| e.stories).unwrap_or_default();
            rows.sort_by_key(|s| s.id);
            rows.truncate(usize::try_from(size + 1).unwrap_or(usize::MAX));
            use sea_orm::QueryTrait;
            return Ok(first_page_of(db, rows, size, select.into_query(), |s| s.id, PublicStory));
        }
        Ok(paginate(db, select, success_story::Column::Id, |s| s.id, PublicStory, args).await?)
    }
    /// How far it is from the `near` point of the search, in km.
    async fn distance_km(&self) -> Option<f64> {
        self.distance_km.map(|d| (d * 10.0).round() / 10.0)
    }
}

pub type DirectoryPage = Connection<DirectoryCursor, DirectoryEntry, EmptyFields>;

fn search_of(query: Option<String>, filter: Option<DirectoryFilter>) -> Result<Search, AppError> {
    let f = filter.unwrap_or_default();
    let tier_id = f
        .tier
        .map(|t| {
            ids::decode_as(NodeType::Tier, &t).ok_or_else(|| AppError::bad_input("filter.tier", "is not a tier id"))
        })
        .transpose()?;
    let blank = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(Search {
        query: blank(query),
        country: blank(f.country),
        expertise: blank(f.expertise),
        tier_id,
        product_line: blank(f.product_line),
        language: blank(f.language),
        near: f.near.map(|n| Near { lat: n.lat, lon: n.lon, km: n.km }),
    })
}

/// One page of the directory: the search's positions, then the profiles (two statements).
pub async fn directory_page(
    ctx: &crate::service::Ctx,
    query: Option<String>,
    filter: Option<DirectoryFilter>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<DirectoryPage, AppError> {
    let search = search_of(query, filter)?;
    let size = first.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(0..=MAX_PAGE_SIZE).contains(&size) {
        return Err(AppError::bad_input("first", format!("must be between 0 and {MAX_PAGE_SIZE}")));
    }
    let after =
        after.map(|a| DirectoryCursor::decode_cursor(&a).map_err(|m| AppError::bad_input("after", m))).transpose()?;
    let found = directory::search(&ctx.db, &search, after.as_ref().map(|c| &c.0), size as u64).await?;
    let ids: Vec<_> = found.entries.iter().map(|p| p.id).collect();
    let mut profiles = directory::listed_profiles(&ctx.db, &ids).await?;
    let mut page = Connection::new(after.is_some(), found.has_next);
    for position in found.entries {
        let Some(i) = profiles.iter().position(|p| p.organization_id == position.id) else { continue };
        let profile = profiles.swap_remove(i);
        let distance_km = position.distance;
        page.edges.push(Edge::new(DirectoryCursor(position), DirectoryEntry { profile, distance_km }));
    }
    Ok(page)
}

#[derive(Default)]
pub struct DirectoryQuery;

#[Object]
impl DirectoryQuery {
    /// The public partner directory (no sign-in needed): partners who opted in and whose tier
    /// includes a listing, searched by text (name, description, city, expertise, product lines)
    /// and filters, ordered by tier, then relevance, then name; with `near` and no text, nearest
    /// first.
    #[graphql(complexity = "crate::graphql::connection::cost(first, None, child_complexity)")]
    async fn directory(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Words to search for; each matches as a prefix, all must match.")] query: Option<String>,
        #[graphql(desc = "Only partners matching this.")] filter: Option<DirectoryFilter>,
        #[graphql(desc = "Returns the first n items, 1 to 100 (20 when not given).")] first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor (a `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
    ) -> async_graphql::Result<DirectoryPage> {
        Ok(directory_page(ctx.service(), query, filter, first, after).await?)
    }

    /// A listed partner by its profile's slug (no sign-in needed); null when it is not listed.
    async fn directory_entry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The slug of `/partners/<slug>`.")] slug: String,
    ) -> async_graphql::Result<Option<DirectoryEntry>> {
        let profile = directory::by_slug(&ctx.service().db, &slug).await?;
        Ok(profile.map(|profile| DirectoryEntry { profile, distance_km: None }))
    }
}

/// The input of `updatePartnerProfile`: an absent field stays as it is, a blank text clears it.
#[derive(InputObject)]
pub struct UpdatePartnerProfileInput {
    /// The partner; yours when absent.
    pub partner_id: Option<ID>,
    /// What the partner does, plain text, at most 2000 characters.
    pub description: Option<String>,
    /// The logo's https URL.
    pub logo_url: Option<String>,
    /// The partner's web site (http or https).
    pub website: Option<String>,
    /// The city.
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    /// Where the partner is; null clears it.
    pub coordinates: MaybeUndefined<Coordinates>,
    /// ISO 639-1 language codes, at most 20.
    pub languages: Option<Vec<String>>,
    /// Expertise, at most 20, each up to 60 characters.
    pub expertise: Option<Vec<String>>,
    /// Product lines, at most 20, each up to 60 characters.
    pub product_lines: Option<Vec<String>>,
    /// Whether to appear in the public directory (when the tier includes a listing).
    pub opted_in: Option<bool>,
}

/// What `updatePartnerProfile` returns.
#[derive(SimpleObject)]
pub struct UpdatePartnerProfilePayload {
    /// The profile as the directory shows it.
    pub profile: DirectoryEntry,
    /// Whether the directory lists it now (opted in, and a tier or programme that lists).
    pub listed: bool,
}

#[derive(Default)]
pub struct DirectoryMutation;

#[Object]
impl DirectoryMutation {
    /// Creates or changes a partner's directory profile (its ADMIN, or staff ADMIN).
    async fn update_partner_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's arguments, as one input object (Relay's convention).")]
        input: UpdatePartnerProfileInput,
    ) -> async_graphql::Result<UpdatePartnerProfilePayload> {
        let principal = crate::policy::signed_in(ctx.principal())?;
        let partner_id = match &input.partner_id {
            Some(id) => super::ledger::decode(NodeType::Organization, id, "Partner")?,
            None => crate::policy::acting(principal)?.organization_id(),
        };
        let coordinates = match input.coordinates {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(c) => Some(Some((c.lat, c.lon))),
        };
        let changes = ProfileInput {
            description: input.description,
            logo_url: input.logo_url,
            website: input.website,
            city: input.city,
            country: input.country,
            coordinates,
            languages: input.languages,
            expertise: input.expertise,
            product_lines: input.product_lines,
            opted_in: input.opted_in,
        };
        let service = ctx.service();
        let profile = directory::update_profile(service, Some(principal), partner_id, changes).await?;
        let listed = !directory::listed_profiles(&service.db, &[partner_id]).await?.is_empty();
        Ok(UpdatePartnerProfilePayload { profile: DirectoryEntry { profile, distance_km: None }, listed })
    }
}
