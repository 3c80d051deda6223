use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginStates {
    Table,
    Id,
    Provider,
    PkceVerifier,
    Nonce,
    ReturnTo,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    Provider,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    OrganizationId,
    Email,
    Role,
    TokenHash,
    InvitedByUserId,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
    AcceptedByUserId,
    CancelledAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A login in progress, keyed by the SHA-256 of its `state`, so any node can finish it.
        manager
            .create_table(
                Table::create()
                    .table(LoginStates::Table)
                    .col(string_len(LoginStates::Id, 64).primary_key())
                    .col(string(LoginStates::Provider))
                    .col(string(LoginStates::PkceVerifier))
                    .col(string(LoginStates::Nonce))
                    .col(string(LoginStates::ReturnTo))
                    .col(timestamp_with_time_zone(LoginStates::CreatedAt))
                    .col(timestamp_with_time_zone(LoginStates::ExpiresAt))
                    .take(),
            )
            .await?;
        // A signed-in browser, keyed by the SHA-256 of the cookie's secret.
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(string_len(Sessions::Id, 64).primary_key())
                    .col(uuid(Sessions::UserId))
                    .col(string(Sessions::Provider))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_sessions_user").table(Sessions::Table).col(Sessions::UserId).take())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .col(pk_uuid(Invitations::Id))
                    .col(uuid(Invitations::OrganizationId))
                    .col(string(Invitations::Email))
                    .col(string_len(Invitations::Role, 32))
                    .col(string_len(Invitations::TokenHash, 64))
                    .col(uuid_null(Invitations::InvitedByUserId))
                    .col(timestamp_with_time_zone(Invitations::CreatedAt))
                    .col(timestamp_with_time_zone(Invitations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Invitations::AcceptedAt))
                    .col(uuid_null(Invitations::AcceptedByUserId))
                    .col(timestamp_with_time_zone_null(Invitations::CancelledAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_invitations_organization")
                            .from(Invitations::Table, Invitations::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_invitations_token")
                    .table(Invitations::Table)
                    .col(Invitations::TokenHash)
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_invitations_organization")
                    .table(Invitations::Table)
                    .col(Invitations::OrganizationId)
                    .col(Invitations::Id)
                    .take(),
            )
            .await?;
        Ok(())
    }
}
