use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
    ProductId,
    Code,
    Name,
    BillingPeriod,
    UnitPrice,
    Currency,
    Rank,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum VolumeBands {
    Table,
    Id,
    PlanId,
    MinSeats,
    UnitPrice,
}

#[derive(DeriveIden)]
enum Subscriptions {
    Table,
    PlanId,
    PartnerId,
    BilledTo,
    StartedAt,
    CurrentPeriodStart,
    CurrentPeriodEnd,
    AutoRenew,
    CancelAtPeriodEnd,
    PendingPlanId,
}

#[derive(DeriveIden)]
enum SubscriptionChanges {
    Table,
    Id,
    SubscriptionId,
    Kind,
    Before,
    After,
    ActorUserId,
    ActingOrganizationId,
    OccurredAt,
}

#[derive(DeriveIden)]
enum Charges {
    Table,
    Id,
    SubscriptionId,
    BillToOrganizationId,
    Kind,
    PlanId,
    Seats,
    FromPlanId,
    FromSeats,
    PeriodStart,
    PeriodEnd,
    ServiceStart,
    CreatedAt,
    InvoiceId,
}

#[derive(DeriveIden)]
enum Invoices {
    Table,
    Id,
    Number,
    Year,
    BillToOrganizationId,
    Period,
    Currency,
    Country,
    VatNumber,
    TaxRate,
    ReverseCharge,
    Status,
    Subtotal,
    DiscountTotal,
    TaxTotal,
    Total,
    CreatedAt,
    IssuedAt,
    PaidAt,
    VoidedAt,
    VoidReason,
}

#[derive(DeriveIden)]
enum InvoiceLines {
    Table,
    Id,
    InvoiceId,
    Position,
    Kind,
    SubscriptionId,
    CustomerId,
    Description,
    Quantity,
    UnitPrice,
    Gross,
    DiscountPercent,
    Discount,
    Net,
    Tax,
    Total,
    RetailNet,
}

#[derive(DeriveIden)]
enum InvoiceCounters {
    Table,
    Year,
    LastNumber,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    InvoiceId,
    Amount,
    Currency,
    ReceivedAt,
    Reference,
    RecordedByUserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TaxRates {
    Table,
    Country,
    Rate,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Restrict).take()
}

/// Standard VAT rates in percent (2026). Countries not listed are taxed at 0.
const RATES: [(&str, &str); 33] = [
    ("AT", "20"),
    ("BE", "21"),
    ("BG", "20"),
    ("CY", "19"),
    ("CZ", "21"),
    ("DE", "19"),
    ("DK", "25"),
    ("EE", "24"),
    ("ES", "21"),
    ("FI", "25.5"),
    ("FR", "20"),
    ("GR", "24"),
    ("HR", "25"),
    ("HU", "27"),
    ("IE", "23"),
    ("IT", "22"),
    ("LT", "21"),
    ("LU", "17"),
    ("LV", "21"),
    ("MT", "18"),
    ("NL", "21"),
    ("PL", "23"),
    ("PT", "23"),
    ("RO", "21"),
    ("SE", "25"),
    ("SI", "22"),
    ("SK", "23"),
    ("CH", "8.1"),
    ("NO", "25"),
    ("GB", "20"),
    ("IS", "24"),
    ("LI", "8.1"),
    ("US", "0"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Prices are exact decimal text on both databases, never floats.
        manager
            .create_table(
                Table::create()
                    .table(Plans::Table)
                    .col(pk_uuid(Plans::Id))
                    .col(uuid(Plans::ProductId))
                    .col(string_len_uniq(Plans::Code, 32))
                    .col(string(Plans::Name))
                    .col(string_len(Plans::BillingPeriod, 8))
                    .col(string_len(Plans::UnitPrice, 40))
                    .col(string_len(Plans::Currency, 3))
                    .col(integer(Plans::Rank))
                    .col(boolean(Plans::Active).default(true))
                    .col(timestamp_with_time_zone(Plans::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_plans_product",
                        (Plans::Table, Plans::ProductId),
                        (Products::Table, Products::Id),
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(VolumeBands::Table)
                    .col(pk_uuid(VolumeBands::Id))
                    .col(uuid(VolumeBands::PlanId))
                    .col(integer(VolumeBands::MinSeats))
                    .col(string_len(VolumeBands::UnitPrice, 40))
                    .foreign_key(&mut fk(
                        "fk_volume_bands_plan",
                        (VolumeBands::Table, VolumeBands::PlanId),
                        (Plans::Table, Plans::Id),
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_volume_bands_plan_seats")
                    .table(VolumeBands::Table)
                    .col(VolumeBands::PlanId)
                    .col(VolumeBands::MinSeats)
                    .unique()
                    .take(),
            )
            .await?;
        // SQLite alters one column per statement. Subscriptions from before plans existed keep
        // nulls and are not billed.
        for column in [
            uuid_null(Subscriptions::PlanId),
            uuid_null(Subscriptions::PartnerId),
            string_len(Subscriptions::BilledTo, 8).default("CUSTOMER").take(),
            timestamp_with_time_zone_null(Subscriptions::StartedAt),
            timestamp_with_time_zone_null(Subscriptions::CurrentPeriodStart),
            timestamp_with_time_zone_null(Subscriptions::CurrentPeriodEnd),
            boolean(Subscriptions::AutoRenew).default(true).take(),
            boolean(Subscriptions::CancelAtPeriodEnd).default(false).take(),
            uuid_null(Subscriptions::PendingPlanId),
        ] {
            let mut column = column;
            manager.alter_table(Table::alter().table(Subscriptions::Table).add_column(&mut column).take()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_subscriptions_renewal")
                    .table(Subscriptions::Table)
                    .col(Subscriptions::CurrentPeriodEnd)
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SubscriptionChanges::Table)
                    .col(pk_uuid(SubscriptionChanges::Id))
                    .col(uuid(SubscriptionChanges::SubscriptionId))
                    .col(string_len(SubscriptionChanges::Kind, 32))
                    .col(json_binary_null(SubscriptionChanges::Before))
                    .col(json_binary_null(SubscriptionChanges::After))
                    .col(uuid_null(SubscriptionChanges::ActorUserId))
                    .col(uuid_null(SubscriptionChanges::ActingOrganizationId))
                    .col(timestamp_with_time_zone(SubscriptionChanges::OccurredAt))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_subscription_changes_subscription")
                    .table(SubscriptionChanges::Table)
                    .col(SubscriptionChanges::SubscriptionId)
                    .col(SubscriptionChanges::Id)
                    .take(),
            )
            .await?;
        // What is owed and not yet invoiced: a period in advance, or a prorated change.
        manager
            .create_table(
                Table::create()
                    .table(Charges::Table)
                    .col(pk_uuid(Charges::Id))
                    .col(uuid(Charges::SubscriptionId))
                    .col(uuid(Charges::BillToOrganizationId))
                    .col(string_len(Charges::Kind, 16))
                    .col(uuid(Charges::PlanId))
                    .col(integer(Charges::Seats))
                    .col(uuid_null(Charges::FromPlanId))
                    .col(integer_null(Charges::FromSeats))
                    .col(timestamp_with_time_zone(Charges::PeriodStart))
                    .col(timestamp_with_time_zone(Charges::PeriodEnd))
                    .col(timestamp_with_time_zone(Charges::ServiceStart))
                    .col(timestamp_with_time_zone(Charges::CreatedAt))
                    .col(uuid_null(Charges::InvoiceId))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_charges_unbilled")
                    .table(Charges::Table)
                    .col(Charges::InvoiceId)
                    .col(Charges::BillToOrganizationId)
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Invoices::Table)
                    .col(pk_uuid(Invoices::Id))
                    .col(string_len_uniq(Invoices::Number, 20))
                    .col(integer(Invoices::Year))
                    .col(uuid(Invoices::BillToOrganizationId))
                    .col(string_len(Invoices::Period, 7))
                    .col(string_len(Invoices::Currency, 3))
                    .col(string_len_null(Invoices::Country, 2))
                    .col(string_len_null(Invoices::VatNumber, 32))
                    .col(string_len(Invoices::TaxRate, 16))
                    .col(boolean(Invoices::ReverseCharge).default(false))
                    .col(string_len(Invoices::Status, 8))
                    .col(string_len(Invoices::Subtotal, 40))
                    .col(string_len(Invoices::DiscountTotal, 40))
                    .col(string_len(Invoices::TaxTotal, 40))
                    .col(string_len(Invoices::Total, 40))
                    .col(timestamp_with_time_zone(Invoices::CreatedAt))
                    .col(timestamp_with_time_zone_null(Invoices::IssuedAt))
                    .col(timestamp_with_time_zone_null(Invoices::PaidAt))
                    .col(timestamp_with_time_zone_null(Invoices::VoidedAt))
                    .col(text_null(Invoices::VoidReason))
                    .foreign_key(&mut fk(
                        "fk_invoices_bill_to",
                        (Invoices::Table, Invoices::BillToOrganizationId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .take(),
            )
            .await?;
        // One invoice per bill-to organisation, period and currency: a second run makes none.
        manager
            .create_index(
                Index::create()
                    .name("ux_invoices_bill_to_period")
                    .table(Invoices::Table)
                    .col(Invoices::BillToOrganizationId)
                    .col(Invoices::Period)
                    .col(Invoices::Currency)
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InvoiceLines::Table)
                    .col(pk_uuid(InvoiceLines::Id))
                    .col(uuid(InvoiceLines::InvoiceId))
                    .col(integer(InvoiceLines::Position))
                    .col(string_len(InvoiceLines::Kind, 16))
                    .col(uuid_null(InvoiceLines::SubscriptionId))
                    .col(uuid_null(InvoiceLines::CustomerId))
                    .col(string(InvoiceLines::Description))
                    .col(string_len(InvoiceLines::Quantity, 40))
                    .col(string_len(InvoiceLines::UnitPrice, 40))
                    .col(string_len(InvoiceLines::Gross, 40))
                    .col(string_len(InvoiceLines::DiscountPercent, 16))
                    .col(string_len(InvoiceLines::Discount, 40))
                    .col(string_len(InvoiceLines::Net, 40))
                    .col(string_len(InvoiceLines::Tax, 40))
                    .col(string_len(InvoiceLines::Total, 40))
                    .col(string_len(InvoiceLines::RetailNet, 40))
                    .foreign_key(&mut fk(
                        "fk_invoice_lines_invoice",
                        (InvoiceLines::Table, InvoiceLines::InvoiceId),
                        (Invoices::Table, Invoices::Id),
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_invoice_lines_invoice")
                    .table(InvoiceLines::Table)
                    .col(InvoiceLines::InvoiceId)
                    .col(InvoiceLines::Position)
                    .take(),
            )
            .await?;
        // The last invoice number per year, taken in the invoice's own transaction: the row
        // lock serialises concurrent billing runs, a rollback returns the number.
        manager
            .create_table(
                Table::create()
                    .table(InvoiceCounters::Table)
                    .col(integer(InvoiceCounters::Year).primary_key())
                    .col(integer(InvoiceCounters::LastNumber))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .col(pk_uuid(Payments::Id))
                    .col(uuid(Payments::InvoiceId))
                    .col(string_len(Payments::Amount, 40))
                    .col(string_len(Payments::Currency, 3))
                    .col(timestamp_with_time_zone(Payments::ReceivedAt))
                    .col(string_null(Payments::Reference))
                    .col(uuid_null(Payments::RecordedByUserId))
                    .col(timestamp_with_time_zone(Payments::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_payments_invoice",
                        (Payments::Table, Payments::InvoiceId),
                        (Invoices::Table, Invoices::Id),
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TaxRates::Table)
                    .col(string_len(TaxRates::Country, 2).primary_key())
                    .col(string_len(TaxRates::Rate, 16))
                    .take(),
            )
            .await?;
        let mut insert =
            Query::insert().into_table(TaxRates::Table).columns([TaxRates::Country, TaxRates::Rate]).to_owned();
        for (country, rate) in RATES {
            insert.values_panic([country.into(), rate.into()]);
        }
        manager.exec_stmt(insert).await?;
        Ok(())
    }
}
