use sea_orm::entity::prelude::*;

use crate::enums::OrganizationKind;

/// An organisation of one kind: VENDOR, PARTNER, CUSTOMER or DISTRIBUTOR.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: OrganizationKind,
    pub name: String,
    /// ISO 3166-1 alpha-2; optional only for the vendor created by `bootstrap`.
    pub country: Option<String>,
    pub domain: Option<String>,
    pub vat_number: Option<String>,
    pub registration_number: Option<String>,
    pub website: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
