use sea_orm_migration::prelude::*;

use crate::{
    m20261130_000013_exact_money_and_enums::enum_constraint, m20261204_000020_rebate_claims::NOTIFICATION_KINDS,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Notifications that leave the outbox (issue 17).
///
/// A notification is expanded once into `deliveries`, one per e-mail recipient or webhook
/// endpoint (`ux_deliveries_target` makes a second expansion a no-op). A delivery is the unit the
/// worker claims: a lease (`lease_until`, `lease_owner`) taken by a conditional update, so that
/// one node sends it; every try is a row of `delivery_attempts`.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in [
            "ALTER TABLE notifications ADD COLUMN recipient_email VARCHAR(320) NULL",
            "ALTER TABLE notifications ADD COLUMN dispatched_at TIMESTAMP WITH TIME ZONE NULL",
            "ALTER TABLE users ADD COLUMN language VARCHAR(48) NULL",
            "ALTER TABLE users ADD COLUMN notifications_read_at TIMESTAMP WITH TIME ZONE NULL",
            "ALTER TABLE grants ADD COLUMN expiry_warned_at TIMESTAMP WITH TIME ZONE NULL",
        ] {
            db.execute_unprepared(sql).await?;
        }
        let uuid = |c: &str| ColumnDef::new(Alias::new(c)).uuid().not_null().to_owned();
        let uuid_null = |c: &str| ColumnDef::new(Alias::new(c)).uuid().null().to_owned();
        let text = |c: &str| ColumnDef::new(Alias::new(c)).string().not_null().to_owned();
        let text_null = |c: &str| ColumnDef::new(Alias::new(c)).text().null().to_owned();
        let status = |c: &str| ColumnDef::new(Alias::new(c)).string_len(48).not_null().to_owned();
        let int = |c: &str| ColumnDef::new(Alias::new(c)).integer().not_null().to_owned();
        let int_null = |c: &str| ColumnDef::new(Alias::new(c)).integer().null().to_owned();
        let at = |c: &str| ColumnDef::new(Alias::new(c)).timestamp_with_time_zone().not_null().to_owned();
        let at_null = |c: &str| ColumnDef::new(Alias::new(c)).timestamp_with_time_zone().null().to_owned();
        let fk = |table: &str, column: &str, to: &str| {
            ForeignKey::create()
                .from(Alias::new(table), Alias::new(column))
                .to(Alias::new(to), Alias::new("id"))
                .to_owned()
        };
        let table = |name: &str| Table::create().table(Alias::new(name)).to_owned();

        let mut endpoints = table("webhook_endpoints");
        endpoints
            .col(uuid("id").primary_key())
            .col(uuid("organization_id"))
            .col(text("url"))
            .col(ColumnDef::new(Alias::new("kinds")).json_binary().not_null())
            .col(text("description"))
            .col(ColumnDef::new(Alias::new("enabled")).boolean().not_null())
            .col(at_null("disabled_at"))
            .col(text_null("disabled_reason"))
            .col(uuid("created_by_user_id"))
            .col(at("created_at"))
            .col(at("updated_at"))
            .foreign_key(&mut fk("webhook_endpoints", "organization_id", "organizations"))
            .foreign_key(&mut fk("webhook_endpoints", "created_by_user_id", "users"));
        manager.create_table(endpoints).await?;

        let mut secrets = table("webhook_secrets");
        secrets
            .col(uuid("id").primary_key())
            .col(uuid("endpoint_id"))
            .col(text("secret"))
            .col(at("created_at"))
            .col(at_null("expires_at"))
            .foreign_key(&mut fk("webhook_secrets", "endpoint_id", "webhook_endpoints"));
        manager.create_table(secrets).await?;

        let mut deliveries = table("deliveries");
        deliveries
            .col(uuid("id").primary_key())
            .col(uuid("notification_id"))
            .col(status("channel"))
            .col(text("target"))
            .col(uuid_null("endpoint_id"))
            .col(uuid_null("user_id"))
            .col(ColumnDef::new(Alias::new("language")).string_len(48).not_null())
            .col(status("status"))
            .col(int("attempts"))
            .col(at("next_attempt_at"))
            .col(at_null("lease_until"))
            .col(uuid_null("lease_owner"))
            .col(at_null("last_attempt_at"))
            .col(int_null("last_response_code"))
            .col(text_null("last_error"))
            .col(at_null("delivered_at"))
            .col(at("created_at"))
            .foreign_key(&mut fk("deliveries", "notification_id", "notifications"))
            .foreign_key(&mut fk("deliveries", "endpoint_id", "webhook_endpoints"))
            .foreign_key(&mut fk("deliveries", "user_id", "users"));
        manager.create_table(deliveries).await?;

        let mut attempts = table("delivery_attempts");
        attempts
            .col(uuid("id").primary_key())
            .col(uuid("delivery_id"))
            .col(int("number"))
            .col(at("attempted_at"))
            .col(ColumnDef::new(Alias::new("succeeded")).boolean().not_null())
            .col(int_null("response_code"))
            .col(text_null("error"))
            .col(int("duration_ms"))
            .foreign_key(&mut fk("delivery_attempts", "delivery_id", "deliveries"));
        manager.create_table(attempts).await?;

        for sql in [
            "CREATE INDEX ix_notifications_undispatched ON notifications (dispatched_at, id)",
            "CREATE INDEX ix_webhook_endpoints_organization ON webhook_endpoints (organization_id, id)",
            "CREATE INDEX ix_webhook_secrets_endpoint ON webhook_secrets (endpoint_id, id)",
            "CREATE UNIQUE INDEX ux_deliveries_target ON deliveries (notification_id, channel, target)",
            "CREATE INDEX ix_deliveries_due ON deliveries (status, next_attempt_at)",
            "CREATE INDEX ix_deliveries_endpoint ON deliveries (endpoint_id, id)",
            "CREATE INDEX ix_delivery_attempts_delivery ON delivery_attempts (delivery_id, number)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        let kinds: Vec<&str> = NOTIFICATION_KINDS
            .iter()
            .copied()
            .chain(["GRANT_EXPIRING", "INVITATION", "WEBHOOK_ENDPOINT_DISABLED"])
            .collect();
        let languages: &[&str] = &["EN", "DE", "FR", "PL", "ES"];
        let enums: [(&str, &str, &[&str]); 5] = [
            ("notifications", "kind", &kinds),
            ("users", "language", languages),
            ("deliveries", "language", languages),
            ("deliveries", "channel", &["EMAIL", "WEBHOOK"]),
            ("deliveries", "status", &["PENDING", "DELIVERED", "DEAD"]),
        ];
        for (table, column, values) in enums {
            enum_constraint(manager, table, column, values).await?;
        }
        Ok(())
    }
}
