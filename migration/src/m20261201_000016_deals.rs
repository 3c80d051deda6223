use sea_orm_migration::prelude::*;

use crate::m20261130_000013_exact_money_and_enums::enum_constraint;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Programs {
    Table,
    DealProtectionDays,
    DealMaxDiscountPercent,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Deals {
    Table,
    Id,
    PartnerId,
    ProgramId,
    CreatedByUserId,
    CustomerId,
    ProspectName,
    ProspectCountry,
    ProspectDomain,
    ProspectVat,
    MatchDomain,
    MatchVat,
    DistributorId,
    EstimatedValue,
    Currency,
    ExpectedCloseDate,
    SalesLeadName,
    SalesLeadEmail,
    SalesLeadPhone,
    EngineerName,
    EngineerEmail,
    EngineerPhone,
    Competitors,
    NextSteps,
    OpportunityExists,
    Status,
    Number,
    EditableFields,
    StaffQuestion,
    RejectionCode,
    RejectionText,
    LostReason,
    ProtectedUntil,
    ExpiryNoticeSentAt,
    SpecialDiscountPercent,
    SubmittedAt,
    ApprovedAt,
    ClosedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DealProducts {
    Table,
    Id,
    DealId,
    ProductId,
    Quantity,
}

#[derive(DeriveIden)]
enum DealProtections {
    Table,
    Id,
    DealId,
    CustomerKey,
    ProductId,
}

#[derive(DeriveIden)]
enum DealEvents {
    Table,
    Id,
    DealId,
    FromStatus,
    ToStatus,
    ActorUserId,
    Note,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DealCounters {
    Table,
    Year,
    LastNumber,
}

/// Deal registration (issue 14): deals with their products and history, a gapless counter per
/// year for `DR-<year>-<6 digits>`, and `deal_protections`, whose unique (customer key, product)
/// lets the database itself refuse a second approved deal for one customer and product: each
/// approved deal holds one row per product and per way of naming its customer (organisation,
/// verified domain, VAT number).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Programs::Table)
                    .add_column(ColumnDef::new(Programs::DealProtectionDays).integer().not_null().default(90))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Programs::Table)
                    .add_column(ColumnDef::new(Programs::DealMaxDiscountPercent).big_integer().null())
                    .to_owned(),
            )
            .await?;
        let org = |from: Deals| {
            ForeignKey::create().from(Deals::Table, from).to(Organizations::Table, Organizations::Id).to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(Deals::Table)
                    .col(ColumnDef::new(Deals::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Deals::PartnerId).uuid().not_null())
                    .col(ColumnDef::new(Deals::ProgramId).uuid().null())
                    .col(ColumnDef::new(Deals::CreatedByUserId).uuid().not_null())
                    .col(ColumnDef::new(Deals::CustomerId).uuid().null())
                    .col(ColumnDef::new(Deals::ProspectName).string().null())
                    .col(ColumnDef::new(Deals::ProspectCountry).string_len(2).null())
                    .col(ColumnDef::new(Deals::ProspectDomain).string().null())
                    .col(ColumnDef::new(Deals::ProspectVat).string().null())
                    .col(ColumnDef::new(Deals::MatchDomain).string().null())
                    .col(ColumnDef::new(Deals::MatchVat).string().null())
                    .col(ColumnDef::new(Deals::DistributorId).uuid().not_null())
                    .col(ColumnDef::new(Deals::EstimatedValue).big_integer().not_null())
                    .col(ColumnDef::new(Deals::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Deals::ExpectedCloseDate).date().not_null())
                    .col(ColumnDef::new(Deals::SalesLeadName).string().not_null())
                    .col(ColumnDef::new(Deals::SalesLeadEmail).string().not_null())
                    .col(ColumnDef::new(Deals::SalesLeadPhone).string().null())
                    .col(ColumnDef::new(Deals::EngineerName).string().null())
                    .col(ColumnDef::new(Deals::EngineerEmail).string().null())
                    .col(ColumnDef::new(Deals::EngineerPhone).string().null())
                    .col(ColumnDef::new(Deals::Competitors).text().not_null())
                    .col(ColumnDef::new(Deals::NextSteps).text().null())
                    .col(ColumnDef::new(Deals::OpportunityExists).boolean().not_null())
                    .col(ColumnDef::new(Deals::Status).string_len(48).not_null())
                    .col(ColumnDef::new(Deals::Number).string().null().unique_key())
                    .col(ColumnDef::new(Deals::EditableFields).text().null())
                    .col(ColumnDef::new(Deals::StaffQuestion).text().null())
                    .col(ColumnDef::new(Deals::RejectionCode).string_len(48).null())
                    .col(ColumnDef::new(Deals::RejectionText).text().null())
                    .col(ColumnDef::new(Deals::LostReason).string_len(48).null())
                    .col(ColumnDef::new(Deals::ProtectedUntil).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Deals::ExpiryNoticeSentAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Deals::SpecialDiscountPercent).big_integer().null())
                    .col(ColumnDef::new(Deals::SubmittedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Deals::ApprovedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Deals::ClosedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Deals::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Deals::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut org(Deals::PartnerId))
                    .foreign_key(&mut org(Deals::CustomerId))
                    .foreign_key(&mut org(Deals::DistributorId))
                    .foreign_key(
                        ForeignKey::create().from(Deals::Table, Deals::CreatedByUserId).to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The scopes start from the partner, the distributor, the customer and the author.
        for (name, cols) in [
            ("ix_deals_partner", vec![Deals::PartnerId, Deals::Id]),
            ("ix_deals_distributor", vec![Deals::DistributorId, Deals::Id]),
            ("ix_deals_customer", vec![Deals::CustomerId]),
            ("ix_deals_author", vec![Deals::CreatedByUserId, Deals::Id]),
            ("ix_deals_match_domain", vec![Deals::MatchDomain]),
            ("ix_deals_match_vat", vec![Deals::MatchVat]),
            ("ix_deals_status", vec![Deals::Status, Deals::Id]),
            ("ix_deals_protected_until", vec![Deals::ProtectedUntil]),
        ] {
            let mut index = Index::create().name(name).table(Deals::Table).to_owned();
            for col in cols {
                index.col(col);
            }
            manager.create_index(index).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(DealProducts::Table)
                    .col(ColumnDef::new(DealProducts::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(DealProducts::DealId).uuid().not_null())
                    .col(ColumnDef::new(DealProducts::ProductId).uuid().not_null())
                    .col(ColumnDef::new(DealProducts::Quantity).integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(DealProducts::Table, DealProducts::DealId)
                            .to(Deals::Table, Deals::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(DealProducts::Table, DealProducts::ProductId)
                            .to(Products::Table, Products::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_deal_products")
                    .table(DealProducts::Table)
                    .col(DealProducts::DealId)
                    .col(DealProducts::ProductId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_deal_products_product")
                    .table(DealProducts::Table)
                    .col(DealProducts::ProductId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DealProtections::Table)
                    .col(ColumnDef::new(DealProtections::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(DealProtections::DealId).uuid().not_null())
                    .col(ColumnDef::new(DealProtections::CustomerKey).string().not_null())
                    .col(ColumnDef::new(DealProtections::ProductId).uuid().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(DealProtections::Table, DealProtections::DealId)
                            .to(Deals::Table, Deals::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_deal_protections")
                    .table(DealProtections::Table)
                    .col(DealProtections::CustomerKey)
                    .col(DealProtections::ProductId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_deal_protections_deal")
                    .table(DealProtections::Table)
                    .col(DealProtections::DealId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DealEvents::Table)
                    .col(ColumnDef::new(DealEvents::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(DealEvents::DealId).uuid().not_null())
                    .col(ColumnDef::new(DealEvents::FromStatus).string_len(48).null())
                    .col(ColumnDef::new(DealEvents::ToStatus).string_len(48).not_null())
                    .col(ColumnDef::new(DealEvents::ActorUserId).uuid().null())
                    .col(ColumnDef::new(DealEvents::Note).text().null())
                    .col(ColumnDef::new(DealEvents::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create().from(DealEvents::Table, DealEvents::DealId).to(Deals::Table, Deals::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_deal_events_deal")
                    .table(DealEvents::Table)
                    .col(DealEvents::DealId)
                    .col(DealEvents::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DealCounters::Table)
                    .col(ColumnDef::new(DealCounters::Year).integer().not_null().primary_key())
                    .col(ColumnDef::new(DealCounters::LastNumber).integer().not_null())
                    .to_owned(),
            )
            .await?;
        for (table, column, values) in ENUMS {
            enum_constraint(manager, table, column, values).await?;
        }
        Ok(())
    }
}

const STATUSES: &[&str] =
    &["DRAFT", "SUBMITTED", "IN_REVIEW", "ACTION_REQUIRED", "APPROVED", "REJECTED", "WON", "LOST", "EXPIRED"];

/// The enum columns of the deal tables as of this migration.
const ENUMS: &[(&str, &str, &[&str])] = &[
    ("deals", "status", STATUSES),
    ("deals", "rejection_code", &["CONFLICT", "NOT_QUALIFIED", "DUPLICATE", "INCOMPLETE", "OTHER"]),
    ("deals", "lost_reason", &["PRICE", "COMPETITOR", "NO_BUDGET", "NO_DECISION", "OTHER"]),
    ("deal_events", "to_status", STATUSES),
    (
        "notifications",
        "kind",
        &[
            "GRANT_REQUESTED",
            "GRANT_OFFERED",
            "GRANT_APPROVED",
            "GRANT_ACCEPTED",
            "GRANT_DECLINED",
            "GRANT_CHANGED",
            "GRANT_REVOKED",
            "GRANT_ENDED",
            "GRANT_EXPIRED",
            "GRANT_EXTENDED",
            "APPLICATION_APPROVED",
            "APPLICATION_REJECTED",
            "TIER_CHANGED",
            "SUCCESS_STORY_REVIEWED",
            "WELCOME_GIFT_SHIPPED",
            "INVOICE_ISSUED",
            "SUBSCRIPTION_BILLING_HANDED_OVER",
            "PARTNER_BILLED_SUBSCRIPTIONS_STOPPING",
            "SUBSCRIPTION_CHANGE_REQUESTED",
            "SUBSCRIPTION_CHANGE_DECIDED",
            "DEAL_STATUS_CHANGED",
            "DEAL_EXPIRING",
        ],
    ),
];
