// Coordinates are degrees, not money: the one place a float belongs.
#![allow(clippy::disallowed_types)]

use sea_orm::entity::prelude::*;

/// A partner's public profile in the directory, edited by its ADMIN. `body` is what full-text
/// search reads besides the name (description, city, expertise, product lines), written by the
/// service; PostgreSQL's generated `search` column is not mapped here.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "partner_profiles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    /// The profile page's address, `/partners/<slug>`.
    pub slug: String,
    /// The organisation's name, copied for search and order.
    pub name: String,
    pub description: String,
    pub logo_url: Option<String>,
    pub website: Option<String>,
    pub city: Option<String>,
    /// ISO 3166 alpha-2.
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// JSON arrays of strings, as the partner wrote them; `partner_profile_tags` holds the
    /// normalised values the filters match.
    pub languages: Json,
    pub expertise: Json,
    pub product_lines: Json,
    pub body: String,
    pub opted_in: bool,
    pub updated_by_user_id: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
