use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Kind,
    Name,
    Country,
    Domain,
    VatNumber,
    RegistrationNumber,
    Website,
    ProgramId,
    TierId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Programs {
    Table,
    Id,
    Name,
    Kind,
    Currency,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Tiers {
    Table,
    Id,
    ProgramId,
    Name,
    Rank,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Kind,
    OidcIssuer,
    OidcSubject,
    Email,
    EmailVerified,
    DisplayName,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    UserId,
    OrganizationId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    UserId,
    Name,
    Prefix,
    TokenHash,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    OccurredAt,
    RequestId,
    ActorUserId,
    ActingOrganizationId,
    CustomerOrganizationId,
    Action,
    TargetType,
    TargetId,
    Before,
    After,
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    Id,
    PartnerId,
    CustomerId,
    Status,
    Rights,
    Scope,
    RequestedBy,
    StartsAt,
    EndsAt,
    AutoExtend,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GrantAssignments {
    Table,
    Id,
    GrantId,
    UserId,
    Rights,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Id,
    UserId,
    Key,
    Operation,
    RequestHash,
    ResultId,
    CreatedAt,
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
                    .table(Programs::Table)
                    .col(pk_uuid(Programs::Id))
                    .col(string(Programs::Name))
                    .col(string(Programs::Kind))
                    .col(string_len(Programs::Currency, 3))
                    .col(timestamp_with_time_zone(Programs::CreatedAt))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Tiers::Table)
                    .col(pk_uuid(Tiers::Id))
                    .col(uuid(Tiers::ProgramId))
                    .col(string(Tiers::Name))
                    .col(integer(Tiers::Rank))
                    .col(timestamp_with_time_zone(Tiers::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_tiers_program",
                        (Tiers::Table, Tiers::ProgramId),
                        (Programs::Table, Programs::Id),
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_tiers_program_rank")
                    .table(Tiers::Table)
                    .col(Tiers::ProgramId)
                    .col(Tiers::Rank)
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .col(pk_uuid(Organizations::Id))
                    .col(string_len(Organizations::Kind, 16))
                    .col(string(Organizations::Name))
                    .col(string_len_null(Organizations::Country, 2))
                    .col(string_null(Organizations::Domain))
                    .col(string_null(Organizations::VatNumber))
                    .col(string_null(Organizations::RegistrationNumber))
                    .col(string_null(Organizations::Website))
                    .col(uuid_null(Organizations::ProgramId))
                    .col(uuid_null(Organizations::TierId))
                    .col(timestamp_with_time_zone(Organizations::CreatedAt))
                    .col(timestamp_with_time_zone(Organizations::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_organizations_program",
                        (Organizations::Table, Organizations::ProgramId),
                        (Programs::Table, Programs::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_organizations_tier",
                        (Organizations::Table, Organizations::TierId),
                        (Tiers::Table, Tiers::Id),
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_organizations_kind")
                    .table(Organizations::Table)
                    .col(Organizations::Kind)
                    .col(Organizations::Id)
                    .take(),
            )
            .await?;
        // One deployment serves one vendor, even if two bootstraps race.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_organizations_single_vendor ON organizations (kind) WHERE kind = 'VENDOR'",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(string_len(Users::Kind, 16))
                    .col(string_null(Users::OidcIssuer))
                    .col(string_null(Users::OidcSubject))
                    .col(string_null(Users::Email))
                    .col(boolean(Users::EmailVerified).default(false))
                    .col(string(Users::DisplayName))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .take(),
            )
            .await?;
        // A person is (issuer, subject), never an e-mail address.
        manager
            .create_index(
                Index::create()
                    .name("ux_users_oidc_identity")
                    .table(Users::Table)
                    .col(Users::OidcIssuer)
                    .col(Users::OidcSubject)
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(pk_uuid(Memberships::Id))
                    .col(uuid(Memberships::UserId))
                    .col(uuid(Memberships::OrganizationId))
                    .col(string_len(Memberships::Role, 32))
                    .col(timestamp_with_time_zone(Memberships::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_memberships_user",
                        (Memberships::Table, Memberships::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_memberships_organization",
                        (Memberships::Table, Memberships::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_memberships_user_organization")
                    .table(Memberships::Table)
                    .col(Memberships::UserId)
                    .col(Memberships::OrganizationId)
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_memberships_organization")
                    .table(Memberships::Table)
                    .col(Memberships::OrganizationId)
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(pk_uuid(ApiTokens::Id))
                    .col(uuid(ApiTokens::UserId))
                    .col(string(ApiTokens::Name))
                    .col(string_len(ApiTokens::Prefix, 16))
                    .col(string_len(ApiTokens::TokenHash, 64))
                    .col(timestamp_with_time_zone_null(ApiTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_api_tokens_user",
                        (ApiTokens::Table, ApiTokens::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_api_tokens_hash")
                    .table(ApiTokens::Table)
                    .col(ApiTokens::TokenHash)
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_api_tokens_user")
                    .table(ApiTokens::Table)
                    .col(ApiTokens::UserId)
                    .col(ApiTokens::Id)
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(pk_uuid(AuditEvents::Id))
                    .col(timestamp_with_time_zone(AuditEvents::OccurredAt))
                    .col(string_len(AuditEvents::RequestId, 64))
                    .col(uuid_null(AuditEvents::ActorUserId))
                    .col(uuid_null(AuditEvents::ActingOrganizationId))
                    .col(uuid_null(AuditEvents::CustomerOrganizationId))
                    .col(string(AuditEvents::Action))
                    .col(string(AuditEvents::TargetType))
                    .col(uuid_null(AuditEvents::TargetId))
                    .col(json_binary_null(AuditEvents::Before))
                    .col(json_binary_null(AuditEvents::After))
                    .take(),
            )
            .await?;
        for (name, column) in [
            ("ix_audit_events_customer", AuditEvents::CustomerOrganizationId),
            ("ix_audit_events_acting", AuditEvents::ActingOrganizationId),
        ] {
            manager
                .create_index(
                    Index::create().name(name).table(AuditEvents::Table).col(column).col(AuditEvents::Id).take(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Grants::Table)
                    .col(pk_uuid(Grants::Id))
                    .col(uuid(Grants::PartnerId))
                    .col(uuid(Grants::CustomerId))
                    .col(string_len(Grants::Status, 16))
                    .col(integer(Grants::Rights))
                    .col(string_len(Grants::Scope, 16))
                    .col(string_len(Grants::RequestedBy, 16))
                    .col(timestamp_with_time_zone(Grants::StartsAt))
                    .col(timestamp_with_time_zone(Grants::EndsAt))
                    .col(boolean(Grants::AutoExtend).default(false))
                    .col(timestamp_with_time_zone(Grants::CreatedAt))
                    .col(timestamp_with_time_zone(Grants::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_grants_partner",
                        (Grants::Table, Grants::PartnerId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_grants_customer",
                        (Grants::Table, Grants::CustomerId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .take(),
            )
            .await?;
        for (name, first, second) in [
            ("ix_grants_partner_customer", Grants::PartnerId, Grants::CustomerId),
            ("ix_grants_customer_partner", Grants::CustomerId, Grants::PartnerId),
        ] {
            manager.create_index(Index::create().name(name).table(Grants::Table).col(first).col(second).take()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(GrantAssignments::Table)
                    .col(pk_uuid(GrantAssignments::Id))
                    .col(uuid(GrantAssignments::GrantId))
                    .col(uuid(GrantAssignments::UserId))
                    .col(integer(GrantAssignments::Rights))
                    .col(timestamp_with_time_zone(GrantAssignments::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_grant_assignments_grant",
                        (GrantAssignments::Table, GrantAssignments::GrantId),
                        (Grants::Table, Grants::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_grant_assignments_user",
                        (GrantAssignments::Table, GrantAssignments::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_grant_assignments_grant_user")
                    .table(GrantAssignments::Table)
                    .col(GrantAssignments::GrantId)
                    .col(GrantAssignments::UserId)
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(pk_uuid(IdempotencyKeys::Id))
                    .col(uuid(IdempotencyKeys::UserId))
                    .col(string(IdempotencyKeys::Key))
                    .col(string(IdempotencyKeys::Operation))
                    .col(string_len(IdempotencyKeys::RequestHash, 64))
                    .col(uuid(IdempotencyKeys::ResultId))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_idempotency_keys_user_operation_key")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::UserId)
                    .col(IdempotencyKeys::Operation)
                    .col(IdempotencyKeys::Key)
                    .unique()
                    .take(),
            )
            .await?;
        Ok(())
    }
}
