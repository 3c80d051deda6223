use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    Sku,
    Name,
    ProductLine,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Subscriptions {
    Table,
    Id,
    CustomerId,
    ProductId,
    Seats,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GrantScopeItems {
    Table,
    Id,
    GrantId,
    SubscriptionId,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    Id,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Restrict).take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .col(pk_uuid(Products::Id))
                    .col(string_uniq(Products::Sku))
                    .col(string(Products::Name))
                    .col(string(Products::ProductLine))
                    .col(boolean(Products::Active).default(true))
                    .col(timestamp_with_time_zone(Products::CreatedAt))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Subscriptions::Table)
                    .col(pk_uuid(Subscriptions::Id))
                    .col(uuid(Subscriptions::CustomerId))
                    .col(uuid(Subscriptions::ProductId))
                    .col(integer(Subscriptions::Seats))
                    .col(string_len(Subscriptions::Status, 16))
                    .col(timestamp_with_time_zone(Subscriptions::CreatedAt))
                    .col(timestamp_with_time_zone(Subscriptions::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_subscriptions_customer",
                        (Subscriptions::Table, Subscriptions::CustomerId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_subscriptions_product",
                        (Subscriptions::Table, Subscriptions::ProductId),
                        (Products::Table, Products::Id),
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_subscriptions_customer")
                    .table(Subscriptions::Table)
                    .col(Subscriptions::CustomerId)
                    .col(Subscriptions::Id)
                    .take(),
            )
            .await?;
        // The subscriptions a SUBSCRIPTIONS-scoped grant covers.
        manager
            .create_table(
                Table::create()
                    .table(GrantScopeItems::Table)
                    .col(pk_uuid(GrantScopeItems::Id))
                    .col(uuid(GrantScopeItems::GrantId))
                    .col(uuid(GrantScopeItems::SubscriptionId))
                    .foreign_key(&mut fk(
                        "fk_grant_scope_items_grant",
                        (GrantScopeItems::Table, GrantScopeItems::GrantId),
                        (Grants::Table, Grants::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_grant_scope_items_subscription",
                        (GrantScopeItems::Table, GrantScopeItems::SubscriptionId),
                        (Subscriptions::Table, Subscriptions::Id),
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_grant_scope_items")
                    .table(GrantScopeItems::Table)
                    .col(GrantScopeItems::GrantId)
                    .col(GrantScopeItems::SubscriptionId)
                    .unique()
                    .take(),
            )
            .await?;
        Ok(())
    }
}
