use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Grants {
    Table,
    DurationDays,
    Message,
    RequestedByUserId,
    AutoExtendedAt,
    Status,
    EndsAt,
}

#[derive(DeriveIden)]
enum Domains {
    Table,
    Id,
    OrganizationId,
    Name,
    Token,
    VerifiedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [
            integer(Grants::DurationDays).default(365).take(),
            text_null(Grants::Message).take(),
            uuid_null(Grants::RequestedByUserId).take(),
            timestamp_with_time_zone_null(Grants::AutoExtendedAt).take(),
        ] {
            manager.alter_table(Table::alter().table(Grants::Table).add_column(column).take()).await?;
        }
        // The expiry job looks for live grants past their end.
        manager
            .create_index(
                Index::create()
                    .name("ix_grants_status_ends_at")
                    .table(Grants::Table)
                    .col(Grants::Status)
                    .col(Grants::EndsAt)
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Domains::Table)
                    .col(pk_uuid(Domains::Id))
                    .col(uuid(Domains::OrganizationId))
                    .col(string(Domains::Name))
                    .col(string_len(Domains::Token, 64))
                    .col(timestamp_with_time_zone_null(Domains::VerifiedAt))
                    .col(timestamp_with_time_zone(Domains::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_domains_organization")
                            .from(Domains::Table, Domains::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_domains_organization_name")
                    .table(Domains::Table)
                    .col(Domains::OrganizationId)
                    .col(Domains::Name)
                    .unique()
                    .take(),
            )
            .await?;
        // A domain is proven by one organisation at most.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_domains_verified_name ON domains (name) WHERE verified_at IS NOT NULL",
            )
            .await?;
        Ok(())
    }
}
