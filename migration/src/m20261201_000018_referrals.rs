use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Affiliates (issue 15): a partner of a referral programme gets a referral code; an organisation
/// created through it is attributed to that partner for the programme's attribution period
/// (12 months by default). One attribution per organisation (unique), so a second code cannot
/// take a customer over.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "ALTER TABLE programs ADD COLUMN referral_attribution_months INTEGER NOT NULL DEFAULT 12",
        )
        .await?;
        let uuid = |c: &str| ColumnDef::new(Alias::new(c)).uuid().not_null().to_owned();
        let at = |c: &str| ColumnDef::new(Alias::new(c)).timestamp_with_time_zone().not_null().to_owned();
        let fk = |table: &str, column: &str, to: &str| {
            ForeignKey::create()
                .from(Alias::new(table), Alias::new(column))
                .to(Alias::new(to), Alias::new("id"))
                .to_owned()
        };
        let mut codes = Table::create().table(Alias::new("referral_codes")).to_owned();
        codes
            .col(uuid("id").primary_key())
            .col(uuid("partner_id"))
            .col(uuid("program_id"))
            .col(ColumnDef::new(Alias::new("code")).string().not_null().unique_key())
            .col(uuid("created_by_user_id"))
            .col(at("created_at"))
            .foreign_key(&mut fk("referral_codes", "partner_id", "organizations"))
            .foreign_key(&mut fk("referral_codes", "program_id", "programs"));
        manager.create_table(codes).await?;
        let mut attributions = Table::create().table(Alias::new("referral_attributions")).to_owned();
        attributions
            .col(uuid("id").primary_key())
            .col(ColumnDef::new(Alias::new("organization_id")).uuid().not_null().unique_key())
            .col(uuid("partner_id"))
            .col(uuid("program_id"))
            .col(uuid("code_id"))
            .col(at("attributed_at"))
            .col(at("ends_at"))
            .foreign_key(&mut fk("referral_attributions", "organization_id", "organizations"))
            .foreign_key(&mut fk("referral_attributions", "partner_id", "organizations"))
            .foreign_key(&mut fk("referral_attributions", "code_id", "referral_codes"));
        manager.create_table(attributions).await?;
        for sql in [
            "CREATE UNIQUE INDEX ux_referral_codes_partner_program ON referral_codes (partner_id, program_id)",
            "CREATE INDEX ix_referral_attributions_partner ON referral_attributions (partner_id, id)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
