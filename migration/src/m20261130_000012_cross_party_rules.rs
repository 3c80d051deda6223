use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Invitations {
    Table,
    InvitedByOrganizationId,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    InvitedByOrganizationId,
    InvitedByUserId,
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    CustomerHidden,
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    ProductId,
    Rank,
}

#[derive(DeriveIden)]
enum Subscriptions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SubscriptionChangeRequests {
    Table,
    Id,
    SubscriptionId,
    CustomerId,
    PartnerId,
    Seats,
    PlanId,
    Message,
    Status,
    RequestedByUserId,
    CreatedAt,
    DecidedAt,
    DecidedByUserId,
    DecisionNote,
}

/// Rules between the two sides of a grant (issue 10):
/// - a partner that invites a customer's users is recorded on the invitation and on the
///   membership it becomes, so that the customer sees who brought whom in;
/// - a grant asked for by VAT number or domain hides the customer from the partner until approved;
/// - a customer asks the partner who pays for more (change requests);
/// - one plan per rank within a product;
/// - tokens of service accounts that were removed from their organisation stop working.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Invitations::Table)
                    .add_column(uuid_null(Invitations::InvitedByOrganizationId))
                    .take(),
            )
            .await?;
        for column in [uuid_null(Memberships::InvitedByOrganizationId), uuid_null(Memberships::InvitedByUserId)] {
            manager.alter_table(Table::alter().table(Memberships::Table).add_column(column).take()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Grants::Table)
                    .add_column(boolean(Grants::CustomerHidden).default(false).take())
                    .take(),
            )
            .await?;
        // Open invitations a partner's user sent to a customer before this change: mark them as
        // the partner's, so that they are checked again when accepted (an ADMIN one is refused).
        // A customer's founding invitation, sent when the partner created it (same instant), is not.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE invitations SET invited_by_organization_id = (
                    SELECT m.organization_id FROM memberships m JOIN organizations o ON o.id = m.organization_id
                    WHERE m.user_id = invitations.invited_by_user_id AND o.kind = 'PARTNER'
                    ORDER BY m.id LIMIT 1)
                 WHERE accepted_at IS NULL AND cancelled_at IS NULL AND invited_by_user_id IS NOT NULL
                   AND organization_id IN (SELECT id FROM organizations WHERE kind = 'CUSTOMER')
                   AND NOT EXISTS (SELECT 1 FROM memberships m2
                                   WHERE m2.user_id = invitations.invited_by_user_id
                                     AND m2.organization_id = invitations.organization_id)
                   AND created_at > (SELECT c.created_at FROM organizations c WHERE c.id = invitations.organization_id)",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_plans_product_rank")
                    .table(Plans::Table)
                    .col(Plans::ProductId)
                    .col(Plans::Rank)
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SubscriptionChangeRequests::Table)
                    .col(pk_uuid(SubscriptionChangeRequests::Id))
                    .col(uuid(SubscriptionChangeRequests::SubscriptionId))
                    .col(uuid(SubscriptionChangeRequests::CustomerId))
                    .col(uuid(SubscriptionChangeRequests::PartnerId))
                    .col(integer_null(SubscriptionChangeRequests::Seats))
                    .col(uuid_null(SubscriptionChangeRequests::PlanId))
                    .col(text_null(SubscriptionChangeRequests::Message))
                    .col(string_len(SubscriptionChangeRequests::Status, 16))
                    .col(uuid(SubscriptionChangeRequests::RequestedByUserId))
                    .col(timestamp_with_time_zone(SubscriptionChangeRequests::CreatedAt))
                    .col(timestamp_with_time_zone_null(SubscriptionChangeRequests::DecidedAt))
                    .col(uuid_null(SubscriptionChangeRequests::DecidedByUserId))
                    .col(text_null(SubscriptionChangeRequests::DecisionNote))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_subscription_change_requests_subscription")
                            .from(SubscriptionChangeRequests::Table, SubscriptionChangeRequests::SubscriptionId)
                            .to(Subscriptions::Table, Subscriptions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .take(),
            )
            .await?;
        for (name, column) in [
            ("ix_subscription_change_requests_subscription", SubscriptionChangeRequests::SubscriptionId),
            ("ix_subscription_change_requests_partner", SubscriptionChangeRequests::PartnerId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(SubscriptionChangeRequests::Table)
                        .col(column)
                        .col(SubscriptionChangeRequests::Id)
                        .take(),
                )
                .await?;
        }
        // A service account outside every organisation must not authenticate any more.
        let orphaned = Query::select()
            .column((Alias::new("u"), Alias::new("id")))
            .from_as(Alias::new("users"), Alias::new("u"))
            .and_where(Expr::col((Alias::new("u"), Alias::new("kind"))).eq("SERVICE_ACCOUNT"))
            .and_where(
                Expr::exists(
                    Query::select()
                        .expr(Expr::val(1))
                        .from(Alias::new("memberships"))
                        .and_where(
                            Expr::col((Alias::new("memberships"), Alias::new("user_id")))
                                .equals((Alias::new("u"), Alias::new("id"))),
                        )
                        .take(),
                )
                .not(),
            )
            .take();
        manager
            .exec_stmt(
                Query::update()
                    .table(Alias::new("api_tokens"))
                    .value(Alias::new("revoked_at"), chrono::Utc::now())
                    .and_where(Expr::col(Alias::new("revoked_at")).is_null())
                    .and_where(Expr::col(Alias::new("user_id")).in_subquery(orphaned))
                    .take(),
            )
            .await?;
        Ok(())
    }
}
