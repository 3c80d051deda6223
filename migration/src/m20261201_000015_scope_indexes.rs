use sea_orm_migration::prelude::*;

/// The indexes the policy's scopes need once each is written as `IN (a UNION b …)` over the
/// small sides (issue 13): every branch starts from an indexed equality on the principal's own
/// ids (the partner, the inviting organisation).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, first, second) in [
            // Subscriptions a partner pays for (it keeps seeing them after its grant ends).
            ("ix_subscriptions_partner", "subscriptions", "partner_id", "billed_to"),
            // Invitations a partner sent on behalf of customers.
            ("ix_invitations_invited_by", "invitations", "invited_by_organization_id", "organization_id"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Alias::new(table))
                        .col(Alias::new(first))
                        .col(Alias::new(second))
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
