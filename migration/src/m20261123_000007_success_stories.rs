use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SuccessStories {
    Table,
    Id,
    PartnerId,
    CustomerName,
    Title,
    Summary,
    Products,
    Publishable,
    Status,
    ReviewReason,
    SubmittedByUserId,
    ReviewedByUserId,
    SubmittedAt,
    ReviewedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SuccessStories::Table)
                    .col(pk_uuid(SuccessStories::Id))
                    .col(uuid(SuccessStories::PartnerId))
                    .col(string(SuccessStories::CustomerName))
                    .col(string(SuccessStories::Title))
                    .col(text(SuccessStories::Summary))
                    .col(json_binary(SuccessStories::Products))
                    .col(boolean(SuccessStories::Publishable).default(false))
                    .col(string_len(SuccessStories::Status, 16))
                    .col(text_null(SuccessStories::ReviewReason))
                    .col(uuid_null(SuccessStories::SubmittedByUserId))
                    .col(uuid_null(SuccessStories::ReviewedByUserId))
                    .col(timestamp_with_time_zone(SuccessStories::SubmittedAt))
                    .col(timestamp_with_time_zone_null(SuccessStories::ReviewedAt))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_success_stories_partner")
                    .table(SuccessStories::Table)
                    .col(SuccessStories::PartnerId)
                    .col(SuccessStories::Id)
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_success_stories_status")
                    .table(SuccessStories::Table)
                    .col(SuccessStories::Status)
                    .col(SuccessStories::Id)
                    .take(),
            )
            .await?;
        Ok(())
    }
}
