//! The GraphQL schema: one MergedObject per capability, output types wrapping entity models,
//! global IDs, cursor connections and per-request DataLoaders. Resolvers stay thin.

pub mod billing;
pub mod change_requests;
pub mod checks;
pub mod connection;
pub mod context;
pub mod customers;
pub mod dashboard;
pub mod deals;
pub mod directory;
pub mod enums;
pub mod ledger;
pub mod live;
pub mod loaders;
pub mod members;
pub mod node;
pub mod onboarding;
pub mod organizations;
pub mod programs;
pub mod questionnaires;
pub mod rebates;
pub mod scalars;
pub mod tenders;
pub mod types;
pub mod viewer;
pub mod webhooks;

use async_graphql::{MergedObject, Schema, SchemaBuilder, registry::SDLExportOptions};

use crate::config::Settings;

/// Every read starts here.
#[derive(MergedObject, Default)]
pub struct Query(
    node::NodeQuery,
    viewer::ViewerQuery,
    organizations::OrganizationQuery,
    customers::CustomerQuery,
    programs::ProgramQuery,
    programs::StoryQuery,
    programs::CourseQuery,
    onboarding::OnboardingQuery,
    billing::BillingQuery,
    change_requests::ChangeRequestQuery,
    deals::DealQuery,
    ledger::LedgerQuery,
    rebates::RebateQuery,
    rebates::RebateClaimQuery,
    webhooks::WebhookQuery,
    dashboard::DashboardQuery,
    directory::DirectoryQuery,
    tenders::TenderQuery,
    questionnaires::ProposalQuery,
);

/// Every change goes through here; each mutation takes one `input` and returns a payload.
#[derive(MergedObject, Default)]
pub struct Mutation(
    viewer::ApiTokenMutation,
    organizations::OrganizationMutation,
    viewer::ServiceAccountMutation,
    members::MemberMutation,
    customers::CustomerMutation,
    programs::ProgramMutation,
    programs::StoryMutation,
    programs::CourseMutation,
    onboarding::OnboardingMutation,
    billing::BillingMutation,
    change_requests::ChangeRequestMutation,
    deals::DealMutation,
    ledger::LedgerMutation,
    rebates::RebateMutation,
    rebates::RebateClaimMutation,
    webhooks::WebhookMutation,
    dashboard::DashboardMutation,
    directory::DirectoryMutation,
    tenders::TenderMutation,
    questionnaires::QuestionnaireMutation,
);

pub type AppSchema = Schema<Query, Mutation, live::Subscription>;

fn builder() -> SchemaBuilder<Query, Mutation, live::Subscription> {
    let builder = Schema::build(Query::default(), Mutation::default(), live::Subscription)
        // The library's own wording speaks of its Rust types; a client wants the format.
        .override_output_type_description::<chrono::DateTime<chrono::Utc>>(
            "A point in time: an RFC 3339 string in UTC, such as 2026-11-30T09:15:00Z.",
        )
        .override_input_type_description::<chrono::DateTime<chrono::Utc>>(
            "A point in time: an RFC 3339 string in UTC, such as 2026-11-30T09:15:00Z.",
        )
        .override_output_type_description::<async_graphql::Json<serde_json::Value>>(
            "Any JSON value; used where a record keeps data of varying shape, such as an audit event's before and after.",
        )
        .override_input_type_description::<async_graphql::Upload>(
            "A file sent with the request as a GraphQL multipart request (operations, map, then the file); null in the operations' variables.",
        )
        .override_output_type_description::<directory::DirectoryPage>(
            "A page of the public directory, in its order (tier, relevance, name; nearest first for `near` without text): `edges` with cursors, `nodes`, and `pageInfo` (forward only: `first` and `after`).",
        );
    describe_pages!(
        builder,
        types::ApiToken,
        onboarding::Application,
        customers::AuditEvent,
        deals::Deal,
        ledger::LedgerEntry,
        ledger::PartnerOfRecordClaim,
        ledger::PayoutBatch,
        ledger::ReferralAttribution,
        ledger::ReferralCode,
        rebates::RebateClaim,
        billing::BillingReportRow,
        programs::Course,
        programs::ExamResult,
        customers::Grant,
        customers::GrantAssignment,
        members::Invitation,
        billing::Invoice,
        types::Membership,
        viewer::Notification,
        types::Organization,
        onboarding::Partnership,
        customers::Product,
        customers::ProductSubscription,
        types::Program,
        onboarding::ProgramTerms,
        billing::SubscriptionChange,
        change_requests::SubscriptionChangeRequest,
        programs::SuccessStory,
        types::Tier,
        programs::TierChange,
        questionnaires::TierProposal,
        onboarding::WelcomeGift,
        webhooks::WebhookEndpoint,
        webhooks::Delivery,
        directory::PublicStory,
        tenders::Tender,
        tenders::TenderResponse,
    )
}

/// The library leaves a connection type undescribed; each says what it pages through.
macro_rules! describe_pages {
    ($builder:expr, $($node:ty),* $(,)?) => {{
        let mut builder = $builder;
        $(
            let text = page_description(&<$node as async_graphql::OutputType>::type_name());
            builder = builder.override_output_type_description::<connection::Page<$node>>(text);
        )*
        builder
    }};
}
use describe_pages;

/// The registry keeps `&'static str` descriptions: each text is made once per process.
fn page_description(node: &str) -> &'static str {
    static TEXTS: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, &'static str>>> =
        std::sync::OnceLock::new();
    let mut texts = TEXTS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    texts.entry(node.to_string()).or_insert_with(|| {
        Box::leak(
            format!("A page of `{node}` items in creation order, with the cursors to fetch the pages around it.")
                .into_boxed_str(),
        )
    })
}

/// The schema with the protections the settings ask for.
pub fn build(settings: &Settings) -> AppSchema {
    let mut schema = builder()
        .limit_depth(settings.graphql.max_depth)
        .limit_complexity(settings.graphql.max_complexity)
        .extension(checks::RequestChecks { introspection: settings.graphql.introspection });
    if !settings.graphql.introspection {
        // The extension refuses introspection with a clear error; this keeps the engine from
        // answering it should a document slip past.
        schema = schema.disable_introspection();
    }
    if !settings.is_development() {
        schema = schema.disable_suggestions();
    }
    schema.finish()
}

/// The SDL, sorted so that `schema.graphql` diffs stay readable, with `@specifiedBy` as the
/// server announces it in introspection (a test compares the two).
pub fn sdl() -> String {
    builder().finish().sdl_with_options(
        SDLExportOptions::new().sorted_fields().sorted_arguments().sorted_enum_items().include_specified_by(),
    )
}
