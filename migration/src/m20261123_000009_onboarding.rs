use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Programs {
    Table,
    Id,
    ExclusivityGroup,
    MinYearlyAmount,
    RequiresRegistrationNumber,
    RequiresWebsite,
}

#[derive(DeriveIden)]
enum Tiers {
    Table,
    Id,
    Requirements,
    Benefits,
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
enum ProgramTerms {
    Table,
    Id,
    ProgramId,
    Version,
    Body,
    PublishedAt,
    PublishedByUserId,
}

#[derive(DeriveIden)]
enum Partnerships {
    Table,
    Id,
    OrganizationId,
    ProgramId,
    TierId,
    JoinedAt,
    CommittedYearlyVolume,
    YearlyFeePaidUntil,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
    ProgramId,
    ApplicantUserId,
    OrganizationId,
    CompanyName,
    RegistrationNumber,
    VatNumber,
    Website,
    Country,
    Address,
    PrimaryExpertise,
    Experience,
    Plan,
    AcceptedTermsVersion,
    Status,
    Reason,
    SubmittedAt,
    DueAt,
    ReviewedAt,
    ReviewedByUserId,
}

#[derive(DeriveIden)]
enum WelcomeGifts {
    Table,
    Id,
    PartnershipId,
    ProductId,
    ShippingAddress,
    ClaimedByUserId,
    ClaimedAt,
    ShippedAt,
    ShippedByUserId,
}

#[derive(DeriveIden)]
enum TierReviews {
    Table,
    Id,
    PartnershipId,
    CurrentTierId,
    EvaluatedTierId,
    EvaluatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            string_len_null(Programs::ExclusivityGroup, 64),
            // Exact decimal text, in the programme's currency.
            string_len_null(Programs::MinYearlyAmount, 40),
            boolean(Programs::RequiresRegistrationNumber).default(false).take(),
            boolean(Programs::RequiresWebsite).default(false).take(),
        ] {
            let mut column = column;
            manager.alter_table(Table::alter().table(Programs::Table).add_column(&mut column).take()).await?;
        }
        for column in [json_binary_null(Tiers::Requirements), json_binary_null(Tiers::Benefits)] {
            let mut column = column;
            manager.alter_table(Table::alter().table(Tiers::Table).add_column(&mut column).take()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ProgramTerms::Table)
                    .col(pk_uuid(ProgramTerms::Id))
                    .col(uuid(ProgramTerms::ProgramId))
                    .col(integer(ProgramTerms::Version))
                    .col(text(ProgramTerms::Body))
                    .col(timestamp_with_time_zone(ProgramTerms::PublishedAt))
                    .col(uuid_null(ProgramTerms::PublishedByUserId))
                    .foreign_key(&mut fk(
                        "fk_program_terms_program",
                        (ProgramTerms::Table, ProgramTerms::ProgramId),
                        (Programs::Table, Programs::Id),
                    ))
                    .take(),
            )
            .await?;
        unique(
            manager,
            "ux_program_terms_version",
            ProgramTerms::Table,
            [ProgramTerms::ProgramId, ProgramTerms::Version],
        )
        .await?;

        // An organisation's place in a programme: one row per (organisation, programme).
        manager
            .create_table(
                Table::create()
                    .table(Partnerships::Table)
                    .col(pk_uuid(Partnerships::Id))
                    .col(uuid(Partnerships::OrganizationId))
                    .col(uuid(Partnerships::ProgramId))
                    .col(uuid(Partnerships::TierId))
                    .col(timestamp_with_time_zone(Partnerships::JoinedAt))
                    .col(string_len_null(Partnerships::CommittedYearlyVolume, 40))
                    .col(timestamp_with_time_zone_null(Partnerships::YearlyFeePaidUntil))
                    .col(timestamp_with_time_zone(Partnerships::CreatedAt))
                    .col(timestamp_with_time_zone(Partnerships::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_partnerships_organization",
                        (Partnerships::Table, Partnerships::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_partnerships_program",
                        (Partnerships::Table, Partnerships::ProgramId),
                        (Programs::Table, Programs::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_partnerships_tier",
                        (Partnerships::Table, Partnerships::TierId),
                        (Tiers::Table, Tiers::Id),
                    ))
                    .take(),
            )
            .await?;
        unique(
            manager,
            "ux_partnerships_org_program",
            Partnerships::Table,
            [Partnerships::OrganizationId, Partnerships::ProgramId],
        )
        .await?;
        // Partners placed before this table existed keep their programme and tier. The old
        // columns stay (SQLite cannot drop a column under a foreign key) but are cleared and
        // nothing reads them any more.
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO partnerships (id, organization_id, program_id, tier_id, joined_at, created_at, updated_at) \
             SELECT id, id, program_id, tier_id, created_at, created_at, updated_at FROM organizations \
             WHERE program_id IS NOT NULL AND tier_id IS NOT NULL",
        )
        .await?;
        db.execute_unprepared("UPDATE organizations SET program_id = NULL, tier_id = NULL").await?;

        manager
            .create_table(
                Table::create()
                    .table(Applications::Table)
                    .col(pk_uuid(Applications::Id))
                    .col(uuid(Applications::ProgramId))
                    .col(uuid(Applications::ApplicantUserId))
                    .col(uuid_null(Applications::OrganizationId))
                    .col(string(Applications::CompanyName))
                    .col(string_len_null(Applications::RegistrationNumber, 64))
                    .col(string_len_null(Applications::VatNumber, 32))
                    .col(string_null(Applications::Website))
                    .col(string_len(Applications::Country, 2))
                    .col(text(Applications::Address))
                    .col(string(Applications::PrimaryExpertise))
                    .col(text(Applications::Experience))
                    .col(text(Applications::Plan))
                    .col(integer(Applications::AcceptedTermsVersion))
                    .col(string_len(Applications::Status, 16))
                    .col(text_null(Applications::Reason))
                    .col(timestamp_with_time_zone(Applications::SubmittedAt))
                    .col(timestamp_with_time_zone(Applications::DueAt))
                    .col(timestamp_with_time_zone_null(Applications::ReviewedAt))
                    .col(uuid_null(Applications::ReviewedByUserId))
                    .foreign_key(&mut fk(
                        "fk_applications_program",
                        (Applications::Table, Applications::ProgramId),
                        (Programs::Table, Programs::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_applications_applicant",
                        (Applications::Table, Applications::ApplicantUserId),
                        (Users::Table, Users::Id),
                    ))
                    .take(),
            )
            .await?;
        index(manager, "ix_applications_status", Applications::Table, [Applications::Status, Applications::Id]).await?;
        index(
            manager,
            "ix_applications_applicant",
            Applications::Table,
            [Applications::ApplicantUserId, Applications::Id],
        )
        .await?;

        // At most one gift per partnership: the unique key makes a second claim fail even when
        // two arrive at once.
        manager
            .create_table(
                Table::create()
                    .table(WelcomeGifts::Table)
                    .col(pk_uuid(WelcomeGifts::Id))
                    .col(uuid_uniq(WelcomeGifts::PartnershipId))
                    .col(uuid(WelcomeGifts::ProductId))
                    .col(text(WelcomeGifts::ShippingAddress))
                    .col(uuid(WelcomeGifts::ClaimedByUserId))
                    .col(timestamp_with_time_zone(WelcomeGifts::ClaimedAt))
                    .col(timestamp_with_time_zone_null(WelcomeGifts::ShippedAt))
                    .col(uuid_null(WelcomeGifts::ShippedByUserId))
                    .foreign_key(&mut fk(
                        "fk_welcome_gifts_partnership",
                        (WelcomeGifts::Table, WelcomeGifts::PartnershipId),
                        (Partnerships::Table, Partnerships::Id),
                    ))
                    .take(),
            )
            .await?;

        // The nightly evaluation's findings: partnerships whose evaluated tier differs from
        // their current one. Replaced on every run.
        manager
            .create_table(
                Table::create()
                    .table(TierReviews::Table)
                    .col(pk_uuid(TierReviews::Id))
                    .col(uuid_uniq(TierReviews::PartnershipId))
                    .col(uuid(TierReviews::CurrentTierId))
                    .col(uuid_null(TierReviews::EvaluatedTierId))
                    .col(timestamp_with_time_zone(TierReviews::EvaluatedAt))
                    .foreign_key(&mut fk(
                        "fk_tier_reviews_partnership",
                        (TierReviews::Table, TierReviews::PartnershipId),
                        (Partnerships::Table, Partnerships::Id),
                    ))
                    .take(),
            )
            .await?;
        Ok(())
    }
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Restrict).take()
}

async fn unique<T: IntoIden, C: IntoIden, const N: usize>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: [C; N],
) -> Result<(), DbErr> {
    let mut index = Index::create().name(name).table(table).unique().take();
    for c in columns {
        index.col(c);
    }
    manager.create_index(index).await
}

async fn index<T: IntoIden, C: IntoIden, const N: usize>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: [C; N],
) -> Result<(), DbErr> {
    let mut index = Index::create().name(name).table(table).take();
    for c in columns {
        index.col(c);
    }
    manager.create_index(index).await
}
