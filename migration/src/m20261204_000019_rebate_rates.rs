use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Rebate claims, part one (issue 16): the approved distributor list and the rebate table.
///
/// A distributor is approved by one row here, active or not: a claim names a distributor of the
/// list, and one taken off the list (inactive) keeps its history. A rebate rate is an amount per
/// unit for a tier and a product line, in a currency, valid over a period; the rate in force on
/// the invoice date is the one frozen on a claim.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let uuid = |c: &str| ColumnDef::new(Alias::new(c)).uuid().not_null().to_owned();
        let at = |c: &str| ColumnDef::new(Alias::new(c)).timestamp_with_time_zone().not_null().to_owned();
        let fk = |table: &str, column: &str, to: &str| {
            ForeignKey::create()
                .from(Alias::new(table), Alias::new(column))
                .to(Alias::new(to), Alias::new("id"))
                .to_owned()
        };
        let table = |name: &str| Table::create().table(Alias::new(name)).to_owned();

        let mut approvals = table("distributor_approvals");
        approvals
            .col(uuid("organization_id").primary_key())
            .col(ColumnDef::new(Alias::new("active")).boolean().not_null())
            .col(ColumnDef::new(Alias::new("note")).text().null())
            .col(at("created_at"))
            .col(at("updated_at"))
            .foreign_key(&mut fk("distributor_approvals", "organization_id", "organizations"));
        manager.create_table(approvals).await?;

        let mut rates = table("rebate_rates");
        rates
            .col(uuid("id").primary_key())
            .col(uuid("program_id"))
            .col(uuid("tier_id"))
            .col(ColumnDef::new(Alias::new("product_line")).string().not_null())
            .col(ColumnDef::new(Alias::new("amount_per_unit")).big_integer().not_null())
            .col(ColumnDef::new(Alias::new("currency")).string_len(3).not_null())
            .col(at("valid_from"))
            .col(ColumnDef::new(Alias::new("valid_to")).timestamp_with_time_zone().null())
            .col(at("created_at"))
            .foreign_key(&mut fk("rebate_rates", "program_id", "programs"))
            .foreign_key(&mut fk("rebate_rates", "tier_id", "tiers"));
        manager.create_table(rates).await?;

        for sql in [
            "CREATE INDEX ix_rebate_rates_program ON rebate_rates (program_id, id)",
            "CREATE INDEX ix_rebate_rates_lookup ON rebate_rates (tier_id, product_line, currency, valid_from)",
            "CREATE INDEX ix_distributor_approvals_active ON distributor_approvals (active, organization_id)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
