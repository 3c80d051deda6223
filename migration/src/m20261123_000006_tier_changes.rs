use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TierChanges {
    Table,
    Id,
    OrganizationId,
    FromTierId,
    ToTierId,
    Reason,
    ChangedByUserId,
    ChangedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Every tier change of a partner, with its reason and author (append-only).
        manager
            .create_table(
                Table::create()
                    .table(TierChanges::Table)
                    .col(pk_uuid(TierChanges::Id))
                    .col(uuid(TierChanges::OrganizationId))
                    .col(uuid_null(TierChanges::FromTierId))
                    .col(uuid(TierChanges::ToTierId))
                    .col(text_null(TierChanges::Reason))
                    .col(uuid_null(TierChanges::ChangedByUserId))
                    .col(timestamp_with_time_zone(TierChanges::ChangedAt))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_tier_changes_organization")
                    .table(TierChanges::Table)
                    .col(TierChanges::OrganizationId)
                    .col(TierChanges::Id)
                    .take(),
            )
            .await?;
        Ok(())
    }
}
