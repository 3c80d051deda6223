use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Invoices {
    Table,
    BillingRunId,
}

/// A billing run called with an idempotency key tags the invoices it makes, so that a retry with
/// the key answers with every invoice of that run (issue 12). Runs without a key leave it null.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Invoices::Table)
                    .add_column(ColumnDef::new(Invoices::BillingRunId).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("invoices_billing_run")
                    .table(Invoices::Table)
                    .col(Invoices::BillingRunId)
                    .to_owned(),
            )
            .await
    }
}
