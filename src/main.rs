use std::{process::ExitCode, sync::Arc};

use clap::{Parser, Subcommand};
use partnerhub::{
    Application,
    clock::SystemClock,
    config::{Environment, Settings, VARIABLES},
    db, demo, graphql,
    service::{Ctx, bootstrap},
    telemetry,
};

#[derive(Parser)]
#[command(name = "partnerhub", version, about = "Partner-ecosystem platform behind one GraphQL endpoint", after_help = settings_help())]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API on PARTNERHUB_LISTEN (default 127.0.0.1:8080); the database named by
    /// PARTNERHUB_DATABASE_URL (default ./partnerhub.db) is created and migrated on start.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Seed the demo (vendor, staff, partners, customers, grants, billing) and serve it, printing
    /// an API token per demo user. The database is --database-url, else PARTNERHUB_DATABASE_URL
    /// when it is set (it must be empty), else a fresh SQLite file in the temporary directory.
    Demo {
        /// Database to seed instead of a fresh temporary one (it must be empty).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// On an empty database, create the vendor organisation and its first ADMIN; the admin's API
    /// token is the last line of the output. Refused once a vendor exists.
    Bootstrap {
        #[arg(long)]
        vendor_name: String,
        #[arg(long)]
        admin_email: String,
        /// The vendor's country (ISO 3166-1 alpha-2).
        #[arg(long)]
        country: Option<String>,
    },
    /// Fill the (empty) database of PARTNERHUB_DATABASE_URL with the demo and, per unit of
    /// scale, 1,000 partners, 50,000 customers with grants and 200,000 subscriptions, for the
    /// benchmark. Deterministic; writes the sampled partner users' API tokens to --tokens-file.
    Seed {
        /// Units of data (fractions allowed: 0.01 is 10 partners).
        #[arg(long, default_value = "1")]
        scale: rust_decimal::Decimal,
        /// How many partners' users get an API token.
        #[arg(long, default_value_t = 20)]
        token_partners: usize,
        /// Where to write the tokens (tab-separated: e-mail, role, partner, token).
        #[arg(long, default_value = "seed-tokens.tsv")]
        tokens_file: std::path::PathBuf,
    },
    /// Print the GraphQL schema (SDL); schema.graphql in the repository is this output.
    Schema,
    /// Copy the SQLite database of PARTNERHUB_DATABASE_URL to FILE while the server runs (one
    /// consistent snapshot, VACUUM INTO). PostgreSQL is backed up with pg_dump (README).
    Backup {
        /// Where to write the copy; it must not exist.
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Put a backup in place of the SQLite database of PARTNERHUB_DATABASE_URL, after checking it
    /// (integrity, foreign keys, numbering, ledger and grant invariants). Stop the server first.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: std::path::PathBuf,
        /// Replace an existing database file.
        #[arg(long)]
        replace: bool,
    },
}

fn settings_help() -> String {
    let mut text = String::from("Settings (environment variables):\n");
    for setting in VARIABLES {
        text.push_str(&format!("  {}\n      {}\n", setting.name, setting.help));
    }
    text
}

// glibc's malloc spent a quarter of the CPU of a customers page under load, much of it waiting
// on its arena locks; mimalloc's per-thread heaps do not (bench/report.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Schema = cli.command {
        print!("{}", graphql::sdl());
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(err) => {
            eprintln!("partnerhub: {err}");
            return ExitCode::from(2);
        }
    };
    // Held to the end of main: dropping it exports the spans still buffered.
    let _telemetry = telemetry::init(&settings);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("partnerhub: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("partnerhub: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, mut settings: Settings) -> Result<(), String> {
    match command {
        Command::Schema => Ok(()),
        Command::Serve => {
            let app = Application::build(settings, Arc::new(SystemClock)).await.map_err(|e| e.to_string())?;
            let listener = app.bind().await.map_err(|e| e.to_string())?;
            tracing::info!(address = %app.state.settings.listen, "serving /graphql");
            app.serve(listener).await.map_err(|e| e.to_string())
        }
        Command::Backup { to } => {
            partnerhub::backup::sqlite_path(&settings.database_url).map_err(|e| e.to_string())?;
            let db = sea_orm::Database::connect(&settings.database_url)
                .await
                .map_err(|e| format!("cannot open the database: {e}"))?;
            let bytes = partnerhub::backup::backup(&db, &to).await.map_err(|e| e.to_string())?;
            println!("backed up to {} ({bytes} bytes)", to.display());
            Ok(())
        }
        Command::Restore { from, replace } => {
            let target = partnerhub::backup::sqlite_path(&settings.database_url).map_err(|e| e.to_string())?;
            let findings = partnerhub::backup::restore(&from, &target, replace).await.map_err(|e| e.to_string())?;
            if !findings.is_empty() {
                return Err(format!("restored, but the copy in place is not sound: {}", findings.join("; ")));
            }
            println!(
                "restored {} into {}: integrity, foreign keys, numbering, ledger and grant checks: passes",
                from.display(),
                target.display()
            );
            Ok(())
        }
        Command::Migrate => {
            let (conn, _) = db::connect(&settings.database_url, 1, settings.database_statement_cache)
                .await
                .map_err(|e| format!("cannot open the database: {e}"))?;
            db::migrate(&conn).await.map_err(|e| format!("cannot apply migrations: {e}"))?;
            println!("migrations applied");
            Ok(())
        }
        Command::Seed { scale, token_partners, tokens_file } => {
            let started = std::time::Instant::now();
            let (conn, _) = db::connect(&settings.database_url, 2, settings.database_statement_cache)
                .await
                .map_err(|e| format!("cannot open the database: {e}"))?;
            db::migrate(&conn).await.map_err(|e| format!("cannot apply migrations: {e}"))?;
            let ctx = Ctx::open(conn, Arc::new(SystemClock), &settings)?;
            let demo = demo::seed(&ctx).await.map_err(|e| format!("cannot seed the demo: {}", e.public_message()))?;
            let seeded = partnerhub::seed::seed(&ctx, scale, token_partners)
                .await
                .map_err(|e| format!("cannot seed: {}", e.public_message()))?;
            let mut tsv = String::from("email\trole\tpartner\ttoken\n");
            for u in &demo.users {
                tsv.push_str(&format!("{}\t{}\t{}\t{}\n", u.email, u.role, u.organization, u.token));
            }
            for u in &seeded.users {
                tsv.push_str(&format!("{}\t{}\t{}\t{}\n", u.email, u.role.as_str(), u.partner, u.token));
            }
            std::fs::write(&tokens_file, tsv).map_err(|e| format!("cannot write {}: {e}", tokens_file.display()))?;
            println!(
                "seeded the demo and {} partners, {} customers, {} grants, {} subscriptions, {} assignments, {} deals, {} ledger entries, {} rebate claims ({} payout batch(es) run) in {:.1} s",
                seeded.partners,
                seeded.customers,
                seeded.grants,
                seeded.subscriptions,
                seeded.assignments,
                seeded.deals,
                seeded.ledger_entries,
                seeded.rebate_claims,
                seeded.payout_batches,
                started.elapsed().as_secs_f64()
            );
            println!("API tokens of {} users: {}", demo.users.len() + seeded.users.len(), tokens_file.display());
            Ok(())
        }
        Command::Bootstrap { vendor_name, admin_email, country } => {
            let (conn, _) = db::connect(&settings.database_url, 1, settings.database_statement_cache)
                .await
                .map_err(|e| format!("cannot open the database: {e}"))?;
            db::migrate(&conn).await.map_err(|e| format!("cannot apply migrations: {e}"))?;
            let ctx = Ctx::open(conn, Arc::new(SystemClock), &settings)?;
            let done = bootstrap::bootstrap(&ctx, &vendor_name, &admin_email, country.as_deref())
                .await
                .map_err(|e| format!("bootstrap refused: {}", e.public_message()))?;
            println!(
                "vendor {} created; its ID (for node(id:) and X-Partnerhub-Organization) is {}",
                done.organization.name,
                partnerhub::ids::encode(partnerhub::ids::NodeType::Organization, done.organization.id)
            );
            println!("admin {} created; their API token (shown once) follows:", admin_email);
            println!("{}", done.token);
            Ok(())
        }
        Command::Demo { database_url } => {
            let dir = std::env::temp_dir().join(format!("partnerhub-demo-{}", uuid::Uuid::now_v7().as_simple()));
            let chosen = database_url.or_else(|| std::env::var(partnerhub::config::vars::DATABASE_URL.name).ok());
            settings.database_url = match chosen {
                Some(url) => url,
                None => {
                    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                    format!("sqlite://{}?mode=rwc", dir.join("demo.db").display())
                }
            };
            settings.environment = Environment::Development;
            // A webhook receiver on this machine is what a developer trying the demo has.
            if partnerhub::config::vars::WEBHOOK_ALLOW_LOOPBACK.from_process().is_none() {
                settings.delivery.webhook_allow_loopback = true;
            }
            // The demo's files go with its database, unless a store was chosen.
            let default_files = partnerhub::files::Location::Local("./partnerhub-files".into());
            if dir.exists() && settings.files == default_files {
                settings.files = partnerhub::files::Location::Local(dir.join("files"));
            }
            let app = Application::build(settings, Arc::new(SystemClock)).await.map_err(|e| e.to_string())?;
            let listener = app.bind().await.map_err(|e| e.to_string())?;
            let seeded = demo::seed(&app.state.ctx)
                .await
                .map_err(|e| format!("cannot seed the demo: {}", e.public_message()))?;
            // The URL may hold a password: name the file only when it is ours.
            let database = if dir.exists() { dir.display().to_string() } else { "the database named".into() };
            print_demo(&seeded, &app.state.settings, &database);
            print_sign_in(&app);
            println!(
                "\nServing on http://{}/ (GraphiQL at /graphql); Ctrl-C stops (the demo data stays in {database}).",
                app.state.settings.listen,
            );
            app.serve(listener).await.map_err(|e| e.to_string())
        }
    }
}

fn print_sign_in(app: &Application) {
    let providers = app.state.providers.list();
    if providers.is_empty() {
        println!(
            "\nSSO: no OpenID provider configured (set PARTNERHUB_OIDC_<NAME>_ISSUER, _CLIENT_ID, _CLIENT_SECRET; see the README)."
        );
    } else {
        println!("\nSSO: sign in at");
        for p in providers {
            println!("  {} -> {}/auth/login?provider={}", p.display_name, app.state.settings.public_url, p.key);
        }
    }
}

fn print_demo(demo: &demo::Demo, settings: &Settings, database: &str) {
    let url = format!("http://{}/graphql", settings.listen);
    println!("partnerhub demo: seeded {database}");
    println!("GraphiQL: open {url} in a browser (send a token as Authorization: Bearer <token>)\n");
    println!("{:<18} {:<34} {:<48} {:<16} token", "user", "e-mail", "organisation", "role");
    for u in &demo.users {
        println!("{:<18} {:<34} {:<48} {:<16} {}", u.display_name, u.email, u.organization, u.role, u.token);
    }
    println!("\nGrants (partner -> customer):");
    for (partner, customer, status, rights, scope) in &demo.grants {
        println!("  {partner:<18} -> {customer:<21} {status:<8} {scope:<28} {}", rights.join(", "));
    }
    println!(
        "  Sam (SALES) is assigned to Edelweiss for MANAGE_PRODUCTS; try `customers {{ nodes {{ name viewerRights }} }}` as Anna and as Sam."
    );
    let (invited, invitation_token) = &demo.invitation;
    println!(
        "\nPending invitation for {invited} (SALES at Alpine Voice AG); after signing in as that verified address:"
    );
    println!("  mutation {{ acceptInvitation(input: {{token: \"{invitation_token}\"}}) {{ membership {{ role }} }} }}");
    println!("\nProgrammes: the Northwind Reseller Programme (Registered < Silver < Gold; terms version 2) and the");
    println!("Northwind Referral Programme exclude each other. Alpine is Gold, Baltic Silver, Celtic Registered.");
    println!("  Baltic's missing requirements for Gold, as Bruno:");
    println!(
        "    {{ viewer {{ actingAs {{ organization {{ tierEvaluation {{ nextTier {{ name }} missingForNext {{ kind target current }} }} }} }} }} }}"
    );
    println!("  Staff queues, as Vera or Carl: applications(status: SUBMITTED) (Paula Prospect applied),");
    println!("    tierReviewQueue (Celtic now meets Silver), successStories(status: \"SUBMITTED\"), welcomeGifts.");
    println!("  Anna may claim Gold's welcome gift once: claimWelcomeGift(input: {{productId, shippingAddress}}).");
    println!("\nBetween partner and customer:");
    println!("  Bruno (Baltic, MANAGE_USERS on Hanse) brought Mia in as MEMBER; a partner never invites, promotes or");
    println!(
        "  removes a customer's ADMIN. As Hans: members {{ nodes {{ role user {{ email }} broughtInBy {{ partnerName }} }} }},"
    );
    println!("  then removePartnerInvitedMembers(input: {{organizationId, partnerId}}) removes all Baltic brought in.");
    println!("  Alpine pays for Edelweiss's desk phones, so Erika cannot raise them: she asked for 5 more seats.");
    println!("  As Anna: {{ subscriptionChangeRequests(status: PENDING) {{ nodes {{ id seats message }} }} }}, then");
    println!("  approveSubscriptionChange or declineSubscriptionChange(input: {{id, note}}).");
    println!(
        "\nBilling: Alpine re-bills Edelweiss (billed to the partner, Gold discount on top of the volume band) and"
    );
    println!("lets Fjord pay Northwind directly (list price); this month's invoices are issued, Fjord's is paid.");
    println!(
        "  As Anna: {{ invoices {{ nodes {{ number status total {{ amount currency }} billToName }} }} partnerBillingReport(period: \"<YYYY-MM>\") {{ nodes {{ customerName amounts {{ retail {{ amount }} cost {{ amount }} margin {{ amount }} }} }} }} }}"
    );
    println!(
        "  CSV: curl -H 'Authorization: Bearer <token>' 'http://{}/exports/invoices.csv?organization=<id>&from=<YYYY-MM>&to=<YYYY-MM>'",
        settings.listen
    );
    println!("\nDeals: Alpine's Edelweiss deal is approved with a 10% special discount (see the line of this month's");
    println!("invoice), Fjord's ends within 14 days; Alpine and Baltic both registered Zephyr Zahnkliniken (one VAT");
    println!(
        "number, written differently) and wait in the staff queue; Celtic owes staff an answer; Sam keeps a draft."
    );
    println!(
        "  As Vera or Carl: {{ deals(filter: {{conflicting: true}}) {{ nodes {{ id customerName partner {{ name }} conflicts {{ id }} }} }} }},"
    );
    println!(
        "    then approveDeal(input: {{dealId, specialDiscountPercent: \"5\"}}): the rival is rejected with CONFLICT."
    );
    println!(
        "  As Bruno, registerDeal(input: {{..., prospect: {{vatNumber: \"DE811234567\", ...}}, submit: true}}) then answers"
    );
    println!(
        "    protectedUntil (never who). As Dora (distributor): deals {{ nodes {{ number status salesLead {{ email }} }} }} (no contacts)."
    );
    println!("\nLedger: Alpine is the confirmed partner of record of Edelweiss and Fjord; Fjord's paid invoice earned");
    println!(
        "Alpine 20% commission, held for the 7-day reversal window. Baltic reached its 500 EUR target last quarter"
    );
    println!("(a 30% adjustment was posted) and was paid in batch PO-<year>-000001; Celtic's 12.50 EUR waits for the");
    println!("20 EUR minimum payout; Baltic's claim on Garda waits for Giulia.");
    println!(
        "  As Anna or Bruno: {{ partnerEarnings {{ quarter commissions {{ amount }} target {{ amount }} rateReached approvedUnpaid {{ amount }} holds {{ reason releaseAt amount {{ amount }} }} nextPayoutAt }} partnerLedger {{ nodes {{ kind amount {{ amount }} state holdReason description }} }} partnerBalances {{ currency pending {{ amount }} approvedUnpaid {{ amount }} paid {{ amount }} }} }}"
    );
    println!(
        "  As Giulia: partnerOfRecordClaims {{ nodes {{ id partner {{ name }} note }} }}, then decidePartnerOfRecord(input: {{claimId, confirm: true}})."
    );
    println!(
        "  As Fiona: runPayout(input: {{idempotencyKey: \"2026-12\", currency: \"EUR\"}}) {{ batch {{ number statements {{ partner {{ name }} amount {{ amount }} }} }} }};"
    );
    println!(
        "    CSV: curl -H 'Authorization: Bearer <token>' 'http://{}/exports/payouts/<number>.csv'",
        settings.listen
    );
    println!("\nAffiliates: Tisza Referrals (referral programme) gave its code to Lumo Opticians, created with it and");
    println!("attributed to Tisza for 12 months; Lumo's paid invoice earned Tisza a 10% referral commission.");
    println!(
        "  As Tamas: createReferralCode(input: {{}}) {{ referralCode {{ code link }} }}, referralAttributions {{ nodes {{ organizationName endsAt }} }}"
    );
    println!(
        "  As Vera: createOrganization(input: {{kind: CUSTOMER, name, country, referralCode: \"<code>\"}}); the link opens http://{}/?ref=<code>",
        settings.listen
    );
    println!("\nRebate terms: Danube Distribution is on the approved distributor list, Sava Supply was taken off it;");
    println!(
        "the rebate table pays Silver 6/9 EUR and Gold 8/12 EUR per D3xx/D7xx phone, Gold D7xx 15 EUR from this quarter."
    );
    println!(
        "  As Anna: {{ approvedDistributors {{ nodes {{ name }} }} rebateRates(programId: \"<id>\", at: \"<invoice date>\") {{ tier {{ name }} productLine amountPerUnit {{ amount }} }} }}"
    );
    println!(
        "  As Fiona: setDistributorApproval(input: {{organizationId, active}}), createRebateRate(input: {{programId, tierId, productLine, amountPerUnit, validFrom}})"
    );
    println!("\nRebate claims: Alpine's claim on Danube invoice DD-2026-0412 is ACCEPTED (its rebate is in Alpine's");
    println!("ledger), Sam's DD-2026-0533 is OPEN and Dora (Danube) confirmed its line, Baltic's DD-2026-0498 was");
    println!("REJECTED (QUANTITY_MISMATCH). Baltic then tried Alpine's invoice as \"dd 2026 0412\" and was refused:");
    println!("  {}", demo.duplicate_refusal);
    println!(
        "  As Fiona (the queue, oldest first): {{ rebateClaims(filter: {{status: OPEN}}) {{ nodes {{ id invoiceNumber amount {{ amount }} lines {{ productLine quantity distributorMark }} distributorNote invoiceFile {{ url contentType }} }} }} }}"
    );
    println!("    then acceptRebateClaim(input: {{claimId}}) or rejectRebateClaim(input: {{claimId, reason, text}});");
    println!("    the file: curl -OJ -H 'Authorization: Bearer <token>' http://{}/files/<id>", settings.listen);
    println!(
        "  As Dora: rebateClaims {{ nodes {{ invoiceNumber amount lines {{ id quantity }} }} }} (amount is null), markRebateClaimLines."
    );
    println!(
        "  As Anna: rebateSummary {{ accepted {{ amount }} paid {{ amount }} unpaid {{ amount }} claimsOpen }}; submit with curl -F (README)."
    );
    let smtp = if settings.delivery.smtp_url.is_some() {
        "sent through PARTNERHUB_SMTP_URL"
    } else {
        "printed below as the outbox worker sends them (no PARTNERHUB_SMTP_URL is set)"
    };
    println!("\nNotifications leave the outbox: e-mails are {smtp}, in each reader's language (Hans reads");
    println!(
        "German, Ines Spanish; setPreferredLanguage(input: {{language: PL}}) changes yours); the invitation above"
    );
    println!("was e-mailed with a link to http://{}/invitations/accept?token=... .", settings.listen);
    println!(
        "  Webhooks, as Anna or Hans (ADMIN): registerWebhookEndpoint(input: {{url: \"https://...\", kinds: [GRANT_REQUESTED]}}) {{ secret endpoint {{ id }} }}"
    );
    println!(
        "    each POST is signed as Standard Webhooks describes (verify with the `standardwebhooks` package and the whsec_ secret);"
    );
    println!(
        "    the log: deliveries(filter: {{endpointId}}) {{ nodes {{ status attempts lastResponseCode lastError nextAttemptAt attemptLog {{ number error }} }} }},"
    );
    println!(
        "    then redeliver(input: {{deliveryId}}) and rotateWebhookSecret(input: {{endpointId}}). The demo allows loopback"
    );
    println!("    receivers (PARTNERHUB_WEBHOOK_ALLOW_LOOPBACK); private and link-local addresses stay refused.");
    println!(
        "  As Vera (staff ADMIN), the dead letters of every channel: deliveries(filter: {{status: DEAD}}) {{ nodes {{ channel recipient lastError }} }}."
    );
    println!(
        "\nLive updates over WebSocket (graphql-transport-ws on ws://{}/graphql), e.g. with the npm graphql-ws client:",
        settings.listen
    );
    println!(
        "  createClient({{ url: 'ws://{}/graphql', connectionParams: {{ authorization: 'Bearer <token>' }} }})",
        settings.listen
    );
    println!(
        "    .subscribe({{ query: 'subscription {{ grantChanged {{ id status partner {{ name }} }} }}' }}, {{ next: console.log }})"
    );
    println!(
        "  (also notificationAdded, dealChanged, rebateClaimChanged, payoutMade). Subscribe as Hans, then, as Anna,"
    );
    println!(
        "  requestCustomerAccess for Hanse: Hans's stream shows it; Cara's shows nothing. Revoking the token ends it."
    );
    println!(
        "\nDashboard, as Anna: {{ partnerDashboard {{ tierEvaluation {{ currentTier {{ name }} nextTier {{ name }} }} dealsLast30Days {{ status count }}"
    );
    println!(
        "  rebateClaimsLast30Days {{ status count }} earnings {{ commissions {{ amount }} target {{ amount }} }} rebates {{ unpaid {{ amount }} }}"
    );
    println!(
        "  renewalsDueIn30Days customersWithRenewalsDue grantsExpiringSoon unreadNotifications }} }}; markNotificationsRead(input: {{}})."
    );
    println!(
        "  As Vera: {{ staffQueues {{ queue waiting oldestSince }} }} (applications, deals, claims, tier reviews waiting)."
    );
    println!(
        "\nProgramme rules: the reseller programme asks a five-question onboarding questionnaire (help in en and de);"
    );
    println!(
        "  Cara answered it and may still change it: {{ viewer {{ actingAs {{ organization {{ partnerships {{ nodes {{ questionnaireAnswers {{ editable answers {{ key text choices number yes }} }} program {{ questionnaire {{ version questions {{ key kind label required options help }} }} }} }} }} }} }} }} }}"
    );
    println!(
        "  As Vera: {{ tierReviewQueue {{ nodes {{ direction partner {{ name }} fromTier {{ name }} toTier {{ name }} questionnaireAnswers {{ answers {{ key }} }} }} }} }}, then"
    );
    println!("  decideTierProposal(input: {{id, confirm: true}}) (a downgrade or a dismissal needs a reason).");
    if let Some((partner, tier, ends)) = &demo.grace {
        println!(
            "  {partner} no longer meets {tier}: it keeps the tier in its grace period until {ends} (tierEvaluation {{ graceEndsAt graceMissing }});"
        );
        println!("  from that day a downgrade is proposed in tierReviewQueue.");
    }
    if let Some((number, total)) = &demo.fee_invoice {
        println!(
            "  The yearly fee (1560 EUR, updateProgramRules) is billed by the billing run: Alpine (Gold) has invoice {number} ({total} with VAT);"
        );
        println!("  recordPayment on it makes Partnership.yearlyFeePaidUntil a year on.");
    }
    println!(
        "\nDirectory: visitors open http://{}/partners (twelve listed partners; Celtic is Registered, Vltava opted out)",
        settings.listen
    );
    println!(
        "  and GraphQL answers without sign-in: {{ directory(query: \"voice\", filter: {{near: {{lat: 48.21, lon: 16.37, km: 100}}}}) {{ nodes {{ name tier {{ name }} distanceKm profilePath }} }} }}"
    );
    println!(
        "  As Anna: updatePartnerProfile(input: {{description, expertise, coordinates: {{lat, lon}}, optedIn}}) {{ listed }}"
    );
    println!("\nTenders (partners only): Edelweiss asks Swiss partners with healthcare expertise (Anna responded;");
    println!("  Bruno does not see it), Hanse awarded its warehouses to Nordlicht, and a visitor's bakery call is");
    println!(
        "  confirmed. As Anna: {{ tenders {{ nodes {{ title status author {{ contactEmail }} myResponse {{ price {{ amount }} }} }} }} }}"
    );
    println!(
        "  (author stays null until expressInterest(input: {{tenderId}})); respondToTender, awardTender as Erika or Hans."
    );
    println!(
        "  Visitors post at http://{}/tenders/new (the confirmation link is e-mailed: printed below",
        settings.listen
    );
    println!(
        "  without PARTNERHUB_SMTP_URL); the bakery's private page: http://{}/tenders/manage?key={}",
        settings.listen, demo.tender_manage_key
    );
    println!("\nOperations: while this runs, PARTNERHUB_DATABASE_URL='{database}' partnerhub backup --to demo-copy.db");
    println!("  takes a consistent copy (partnerhub restore --from demo-copy.db checks and restores one).");
    match settings.operations.metrics_listen {
        Some(addr) => println!("  Prometheus metrics: http://{addr}/metrics"),
        None => println!(
            "  Prometheus metrics: start with PARTNERHUB_METRICS_LISTEN=127.0.0.1:9464, then open /metrics there."
        ),
    }
    println!(
        "  SIGTERM or Ctrl-C lets requests in flight finish (PARTNERHUB_SHUTDOWN_GRACE); requests stop at PARTNERHUB_REQUEST_TIMEOUT."
    );
    if let Some(partner_admin) = demo.users.iter().find(|u| u.email.starts_with("anna@")) {
        println!("\nTry it (Anna, ADMIN of a Gold partner):\n");
        println!(
            "curl -s {url} -H 'Content-Type: application/json' -H 'Authorization: Bearer {}' \\\n  -d '{{\"query\":\"{{ viewer {{ user {{ displayName email }} actingAs {{ role organization {{ name kind tier {{ name }} }} }} }} organizations(first: 10) {{ totalCount nodes {{ name kind }} }} }}\"}}'",
            partner_admin.token
        );
        let query = "{ viewer { user { displayName } } }";
        let hash = partnerhub::http::persisted::sha256_hex(query);
        println!(
            "\nFor client developers: the schema is at http://{}/schema.graphql (introspection is on).",
            settings.listen
        );
        println!(
            "  Persisted query: send the query once with its SHA-256, then the hash alone (GET works, for caches):"
        );
        println!(
            "  curl -s -G {url} -H 'Authorization: Bearer {}' --data-urlencode 'extensions={{\"persistedQuery\":{{\"version\":1,\"sha256Hash\":\"{hash}\"}}}}'",
            partner_admin.token
        );
        println!("  (the first time: PERSISTED_QUERY_NOT_FOUND; add --data-urlencode 'query={query}' once.)");
        println!(
            "  A dashboard on another origin: PARTNERHUB_CORS_ORIGINS=http://localhost:3000 (listed now: {}).",
            if settings.cors_origins.is_empty() { "none".to_string() } else { settings.cors_origins.join(", ") }
        );
    }
}
