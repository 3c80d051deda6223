use sea_orm_migration::prelude::*;

use crate::{
    m20261130_000013_exact_money_and_enums::enum_constraint, m20261204_000020_rebate_claims::NOTIFICATION_KINDS,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The notification kinds as of this migration; later ones extend the list.
pub(crate) fn notification_kinds() -> Vec<&'static str> {
    NOTIFICATION_KINDS
        .iter()
        .copied()
        .chain(["GRANT_EXPIRING", "INVITATION", "WEBHOOK_ENDPOINT_DISABLED"])
        .chain(["TENDER_CONFIRMATION", "TENDER_PUBLISHED", "TENDER_AWARDED", "TENDER_NOT_AWARDED", "TENDER_DIGEST"])
        .collect()
}

/// The tender board (issue 18).
///
/// A tender is UNCONFIRMED until its visitor author follows the e-mailed link (only a hash of
/// the single-use token is kept, with its expiry), then OPEN until its deadline (CLOSED) or an
/// award (AWARDED). Who may see it is decided in SQL from `tender_tags`: the countries and
/// expertise the author restricted it to, matched against the partner's country and its
/// profile's expertise tags. Interest and responses are one row per tender and partner; the
/// daily digest is one row per partner and day, so a second run on any node sends nothing twice.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let uuid = |c: &str| ColumnDef::new(Alias::new(c)).uuid().not_null().to_owned();
        let uuid_null = |c: &str| ColumnDef::new(Alias::new(c)).uuid().null().to_owned();
        let text = |c: &str| ColumnDef::new(Alias::new(c)).text().not_null().to_owned();
        let short = |c: &str, n: u32| ColumnDef::new(Alias::new(c)).string_len(n).not_null().to_owned();
        let short_null = |c: &str, n: u32| ColumnDef::new(Alias::new(c)).string_len(n).null().to_owned();
        let money = |c: &str| ColumnDef::new(Alias::new(c)).big_integer().not_null().to_owned();
        let json = |c: &str| ColumnDef::new(Alias::new(c)).json_binary().not_null().to_owned();
        let at = |c: &str| ColumnDef::new(Alias::new(c)).timestamp_with_time_zone().not_null().to_owned();
        let at_null = |c: &str| ColumnDef::new(Alias::new(c)).timestamp_with_time_zone().null().to_owned();
        let fk = |from: &str, column: &str, to: &str| {
            ForeignKey::create()
                .from(Alias::new(from), Alias::new(column))
                .to(Alias::new(to), Alias::new("id"))
                .to_owned()
        };

        let mut tenders = Table::create().table(Alias::new("tenders")).to_owned();
        tenders
            .col(uuid("id").primary_key())
            .col(text("title"))
            .col(text("description"))
            .col(money("budget_min"))
            .col(money("budget_max"))
            .col(short("currency", 3))
            .col(json("region"))
            .col(json("product_lines"))
            .col(json("expertise"))
            .col(at("deadline"))
            .col(text("contact_name"))
            .col(short("contact_email", 320))
            .col(uuid_null("author_organization_id"))
            .col(uuid_null("author_user_id"))
            .col(short("status", 48))
            .col(short_null("confirmation_hash", 64).unique_key().to_owned())
            .col(at_null("confirmation_expires_at"))
            .col(short_null("manage_key_hash", 64).unique_key().to_owned())
            .col(uuid_null("awarded_response_id"))
            .col(at_null("published_at"))
            .col(at_null("closed_at"))
            .col(at("created_at"))
            .col(at("updated_at"))
            .foreign_key(&mut fk("tenders", "author_organization_id", "organizations"))
            .foreign_key(&mut fk("tenders", "author_user_id", "users"));
        manager.create_table(tenders).await?;
        enum_constraint(manager, "tenders", "status", &["UNCONFIRMED", "OPEN", "CLOSED", "AWARDED"]).await?;

        let mut tags = Table::create().table(Alias::new("tender_tags")).to_owned();
        tags.col(uuid("tender_id"))
            .col(short("kind", 48))
            .col(short("value", 100))
            .primary_key(Index::create().col(Alias::new("tender_id")).col(Alias::new("kind")).col(Alias::new("value")))
            .foreign_key(&mut fk("tender_tags", "tender_id", "tenders"));
        manager.create_table(tags).await?;
        enum_constraint(manager, "tender_tags", "kind", &["REGION", "EXPERTISE", "PRODUCT_LINE"]).await?;

        let mut interests = Table::create().table(Alias::new("tender_interests")).to_owned();
        interests
            .col(uuid("tender_id"))
            .col(uuid("partner_id"))
            .col(uuid("user_id"))
            .col(at("expressed_at"))
            .primary_key(Index::create().col(Alias::new("tender_id")).col(Alias::new("partner_id")))
            .foreign_key(&mut fk("tender_interests", "tender_id", "tenders"))
            .foreign_key(&mut fk("tender_interests", "partner_id", "organizations"))
            .foreign_key(&mut fk("tender_interests", "user_id", "users"));
        manager.create_table(interests).await?;

        let mut responses = Table::create().table(Alias::new("tender_responses")).to_owned();
        responses
            .col(uuid("id").primary_key())
            .col(uuid("tender_id"))
            .col(uuid("partner_id"))
            .col(uuid("user_id"))
            .col(text("proposal"))
            .col(money("price"))
            .col(short("currency", 3))
            .col(at("created_at"))
            .col(at("updated_at"))
            .foreign_key(&mut fk("tender_responses", "tender_id", "tenders"))
            .foreign_key(&mut fk("tender_responses", "partner_id", "organizations"))
            .foreign_key(&mut fk("tender_responses", "user_id", "users"));
        manager.create_table(responses).await?;

        let mut digests = Table::create().table(Alias::new("tender_digests")).to_owned();
        digests
            .col(uuid("organization_id"))
            .col(ColumnDef::new(Alias::new("day")).date().not_null())
            .col(ColumnDef::new(Alias::new("tenders")).integer().not_null())
            .col(at("sent_at"))
            .primary_key(Index::create().col(Alias::new("organization_id")).col(Alias::new("day")))
            .foreign_key(&mut fk("tender_digests", "organization_id", "organizations"));
        manager.create_table(digests).await?;

        for sql in [
            "CREATE INDEX ix_tenders_open ON tenders (status, deadline, id)",
            "CREATE INDEX ix_tenders_published ON tenders (published_at, id)",
            "CREATE INDEX ix_tenders_author ON tenders (author_organization_id, id)",
            "CREATE INDEX ix_tender_tags_value ON tender_tags (kind, value, tender_id)",
            "CREATE INDEX ix_tender_interests_partner ON tender_interests (partner_id, tender_id)",
            "CREATE UNIQUE INDEX ux_tender_responses_partner ON tender_responses (tender_id, partner_id)",
            "CREATE INDEX ix_tender_responses_partner ON tender_responses (partner_id, tender_id)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        enum_constraint(manager, "notifications", "kind", &notification_kinds()).await?;
        Ok(())
    }
}
