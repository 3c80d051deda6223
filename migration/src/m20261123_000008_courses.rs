use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Courses {
    Table,
    Id,
    Code,
    Title,
    Kind,
    FeeAmount,
    FeeCurrency,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ExamResults {
    Table,
    Id,
    UserId,
    CourseId,
    PassedAt,
    CertificateNumber,
    ExpiresAt,
    RecordedByUserId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Courses::Table)
                    .col(pk_uuid(Courses::Id))
                    .col(string_uniq(Courses::Code))
                    .col(string(Courses::Title))
                    .col(string_len(Courses::Kind, 16))
                    // Exact decimal text on both databases; never a float.
                    .col(string_len(Courses::FeeAmount, 40))
                    .col(string_len(Courses::FeeCurrency, 3))
                    .col(timestamp_with_time_zone(Courses::CreatedAt))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ExamResults::Table)
                    .col(pk_uuid(ExamResults::Id))
                    .col(uuid(ExamResults::UserId))
                    .col(uuid(ExamResults::CourseId))
                    .col(timestamp_with_time_zone(ExamResults::PassedAt))
                    .col(string(ExamResults::CertificateNumber))
                    .col(timestamp_with_time_zone_null(ExamResults::ExpiresAt))
                    .col(uuid_null(ExamResults::RecordedByUserId))
                    .col(timestamp_with_time_zone(ExamResults::CreatedAt))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_exam_results_certificate")
                    .table(ExamResults::Table)
                    .col(ExamResults::CourseId)
                    .col(ExamResults::CertificateNumber)
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_exam_results_user")
                    .table(ExamResults::Table)
                    .col(ExamResults::UserId)
                    .col(ExamResults::Id)
                    .take(),
            )
            .await?;
        Ok(())
    }
}
