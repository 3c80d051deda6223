use sea_orm_migration::prelude::*;

use sea_orm_migration::sea_orm::DbBackend;

use crate::m20261130_000013_exact_money_and_enums::enum_constraint;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The public partner directory (issue 18).
///
/// A partner's profile is one row, edited by its ADMIN; what the directory filters on
/// (languages, expertise, product lines) is also kept as rows of `partner_profile_tags`, so a
/// filter is an indexed EXISTS on both databases. Whether a tier lists its partners is a column
/// of the tier (kept with its benefits), so listing is a join, not JSON parsing.
///
/// Full-text search: on PostgreSQL a generated `tsvector` (the name weighted A, the rest B) with
/// a GIN index; on SQLite an FTS5 table kept by triggers. Both index `name` and `body`, which the
/// service writes.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        for sql in [
            "ALTER TABLE tiers ADD COLUMN directory_listing BOOLEAN NOT NULL DEFAULT FALSE",
            "ALTER TABLE programs ADD COLUMN directory_lists_all BOOLEAN NOT NULL DEFAULT FALSE",
        ] {
            db.execute_unprepared(sql).await?;
        }
        let listed = match backend {
            DbBackend::Postgres => {
                "UPDATE tiers SET directory_listing = TRUE WHERE (benefits->>'directoryListing') = 'true'"
            }
            _ => "UPDATE tiers SET directory_listing = TRUE WHERE json_extract(benefits, '$.directoryListing') = 1",
        };
        db.execute_unprepared(listed).await?;

        let text = |c: &str| ColumnDef::new(Alias::new(c)).text().not_null().to_owned();
        let text_null = |c: &str| ColumnDef::new(Alias::new(c)).text().null().to_owned();
        let float_null = |c: &str| ColumnDef::new(Alias::new(c)).double().null().to_owned();
        let mut profiles = Table::create().table(Alias::new("partner_profiles")).to_owned();
        profiles
            .col(ColumnDef::new(Alias::new("organization_id")).uuid().not_null().primary_key())
            .col(ColumnDef::new(Alias::new("slug")).string_len(80).not_null().unique_key())
            .col(text("name"))
            .col(text("description"))
            .col(text_null("logo_url"))
            .col(text_null("website"))
            .col(text_null("city"))
            .col(ColumnDef::new(Alias::new("country")).string_len(2).null())
            .col(float_null("latitude"))
            .col(float_null("longitude"))
            .col(ColumnDef::new(Alias::new("languages")).json_binary().not_null())
            .col(ColumnDef::new(Alias::new("expertise")).json_binary().not_null())
            .col(ColumnDef::new(Alias::new("product_lines")).json_binary().not_null())
            .col(text("body"))
            .col(ColumnDef::new(Alias::new("opted_in")).boolean().not_null())
            .col(ColumnDef::new(Alias::new("updated_by_user_id")).uuid().null())
            .col(ColumnDef::new(Alias::new("updated_at")).timestamp_with_time_zone().not_null())
            .foreign_key(
                ForeignKey::create()
                    .from(Alias::new("partner_profiles"), Alias::new("organization_id"))
                    .to(Alias::new("organizations"), Alias::new("id")),
            );
        manager.create_table(profiles).await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_partner_profiles_listed_place")
                    .table(Alias::new("partner_profiles"))
                    .col(Alias::new("opted_in"))
                    .col(Alias::new("latitude"))
                    .col(Alias::new("longitude"))
                    .to_owned(),
            )
            .await?;

        let mut tags = Table::create().table(Alias::new("partner_profile_tags")).to_owned();
        tags.col(ColumnDef::new(Alias::new("organization_id")).uuid().not_null())
            .col(ColumnDef::new(Alias::new("kind")).string_len(48).not_null())
            .col(ColumnDef::new(Alias::new("value")).string_len(100).not_null())
            .primary_key(
                Index::create().col(Alias::new("organization_id")).col(Alias::new("kind")).col(Alias::new("value")),
            )
            .foreign_key(
                ForeignKey::create()
                    .from(Alias::new("partner_profile_tags"), Alias::new("organization_id"))
                    .to(Alias::new("partner_profiles"), Alias::new("organization_id")),
            );
        manager.create_table(tags).await?;
        enum_constraint(manager, "partner_profile_tags", "kind", &["LANGUAGE", "EXPERTISE", "PRODUCT_LINE"]).await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_partner_profile_tags_value")
                    .table(Alias::new("partner_profile_tags"))
                    .col(Alias::new("kind"))
                    .col(Alias::new("value"))
                    .col(Alias::new("organization_id"))
                    .to_owned(),
            )
            .await?;

        match backend {
            DbBackend::Postgres => {
                for sql in [
                    "ALTER TABLE partner_profiles ADD COLUMN search tsvector GENERATED ALWAYS AS \
                     (setweight(to_tsvector('simple', name), 'A') || setweight(to_tsvector('simple', body), 'B')) STORED",
                    "CREATE INDEX ix_partner_profiles_search ON partner_profiles USING GIN (search)",
                ] {
                    db.execute_unprepared(sql).await?;
                }
            }
            _ => {
                for sql in [
                    "CREATE VIRTUAL TABLE partner_search USING fts5(organization_id UNINDEXED, name, body)",
                    "CREATE TRIGGER partner_profiles_search_insert AFTER INSERT ON partner_profiles BEGIN \
                     INSERT INTO partner_search (organization_id, name, body) VALUES (new.organization_id, new.name, new.body); END",
                    "CREATE TRIGGER partner_profiles_search_update AFTER UPDATE OF name, body ON partner_profiles BEGIN \
                     DELETE FROM partner_search WHERE organization_id = old.organization_id; \
                     INSERT INTO partner_search (organization_id, name, body) VALUES (new.organization_id, new.name, new.body); END",
                    "CREATE TRIGGER partner_profiles_search_delete AFTER DELETE ON partner_profiles BEGIN \
                     DELETE FROM partner_search WHERE organization_id = old.organization_id; END",
                ] {
                    db.execute_unprepared(sql).await?;
                }
            }
        }
        Ok(())
    }
}
