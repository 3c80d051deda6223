use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    Kind,
    OrganizationId,
    UserId,
    Payload,
    CreatedAt,
    DeliveredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The transactional outbox: written with the decision it reports, delivered later.
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(pk_uuid(Notifications::Id))
                    .col(string_len(Notifications::Kind, 48))
                    .col(uuid(Notifications::OrganizationId))
                    .col(uuid_null(Notifications::UserId))
                    .col(json_binary(Notifications::Payload))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notifications::DeliveredAt))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_notifications_organization")
                    .table(Notifications::Table)
                    .col(Notifications::OrganizationId)
                    .col(Notifications::Id)
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_notifications_undelivered")
                    .table(Notifications::Table)
                    .col(Notifications::DeliveredAt)
                    .col(Notifications::Id)
                    .take(),
            )
            .await?;
        Ok(())
    }
}
