use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Notifications to a person who belongs to no organisation yet (an applicant told of the
/// decision) have no organisation: `organization_id` becomes nullable. SQLite cannot change a
/// column's nullability, so there the table is rebuilt.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// The SQLite rebuild is several statements: one transaction, on one connection, so that no
    /// other pooled connection's snapshot sees the table half-replaced.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                db.execute_unprepared("ALTER TABLE notifications ALTER COLUMN organization_id DROP NOT NULL").await?;
            }
            _ => {
                for statement in [
                    "CREATE TABLE notifications_v2 (
                        id uuid_text NOT NULL PRIMARY KEY,
                        kind varchar(48) NOT NULL,
                        organization_id uuid_text NULL,
                        user_id uuid_text NULL,
                        payload jsonb_text NOT NULL,
                        created_at timestamp_with_timezone_text NOT NULL,
                        delivered_at timestamp_with_timezone_text NULL
                    )",
                    "INSERT INTO notifications_v2 (id, kind, organization_id, user_id, payload, created_at, delivered_at)
                     SELECT id, kind, organization_id, user_id, payload, created_at, delivered_at FROM notifications",
                    "DROP TABLE notifications",
                    "ALTER TABLE notifications_v2 RENAME TO notifications",
                    "CREATE INDEX ix_notifications_organization ON notifications (organization_id, id)",
                    "CREATE INDEX ix_notifications_undelivered ON notifications (delivered_at, id)",
                ] {
                    db.execute_unprepared(statement).await?;
                }
            }
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_notifications_user")
                    .table(Alias::new("notifications"))
                    .col(Alias::new("user_id"))
                    .col(Alias::new("id"))
                    .take(),
            )
            .await
    }
}
