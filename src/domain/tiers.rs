//! Tier evaluation: which requirements of each tier a partner meets, the highest tier it fully
//! meets, and what it lacks for the next. Pure: the caller gathers the facts.

use chrono::{DateTime, Months, NaiveTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// "N exams over at least P people", optionally only from certifying courses and only when
/// passed within M months of joining the programme.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificationRequirement {
    pub exams: u32,
    pub distinct_people: u32,
    pub within_months_of_joining: Option<u32>,
}

/// A tier's requirements, stored as JSON on the tier.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Requirements {
    pub basic_training: bool,
    pub certifications: Option<CertificationRequirement>,
    /// Committed yearly purchase volume, in the programme's currency.
    pub yearly_purchase_volume: Option<Decimal>,
    /// Accepted success stories in the last 12 months.
    pub success_stories: Option<u32>,
    pub yearly_fee: bool,
}

impl Requirements {
    /// Checks the numbers make sense; the error names the offending part.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(c) = &self.certifications {
            if c.exams == 0 || c.distinct_people == 0 {
                return Err("certifications need at least one exam and one person".into());
            }
            if c.distinct_people > c.exams {
                return Err("certifications cannot need more people than exams".into());
            }
            if c.within_months_of_joining == Some(0) {
                return Err("certifications: withinMonthsOfJoining must be at least 1".into());
            }
        }
        if self.yearly_purchase_volume.is_some_and(|v| v <= Decimal::ZERO || v.scale() > 4) {
            return Err("yearlyPurchaseVolume must be positive, with at most 4 decimals".into());
        }
        if self.success_stories == Some(0) {
            return Err("successStories must be at least 1 when set".into());
        }
        Ok(())
    }
}

/// What a tier gives, stored as JSON on the tier.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Benefits {
    /// Discount on list prices, in percent (0 to 35).
    pub discount_percent: Decimal,
    pub rebate_eligible: bool,
    pub directory_listing: bool,
    pub dedicated_channel_manager: bool,
    pub event_invitations: bool,
    /// Products a partner at this tier may pick its one welcome gift from; empty: no gift.
    pub welcome_gift_products: Vec<Uuid>,
}

impl Benefits {
    pub const MAX_DISCOUNT: Decimal = Decimal::from_parts(35, 0, 0, false, 0);

    pub fn validate(&self) -> Result<(), String> {
        if self.discount_percent.is_sign_negative() || self.discount_percent > Self::MAX_DISCOUNT {
            return Err("discountPercent is between 0 and 35".into());
        }
        if self.discount_percent.scale() > 2 {
            return Err("discountPercent has at most 2 decimals".into());
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierDefinition {
    pub id: Uuid,
    pub name: String,
    pub rank: i32,
    pub requirements: Requirements,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExamPass {
    pub person: Uuid,
    pub passed_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Only certifying courses count toward certification requirements.
    pub certifying: bool,
}

/// What is known about a partner when it is evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerFacts {
    pub joined_at: DateTime<Utc>,
    pub basic_training_passed: bool,
    pub exams: Vec<ExamPass>,
    pub committed_yearly_volume: Decimal,
    /// When each accepted success story was accepted.
    pub accepted_stories: Vec<DateTime<Utc>>,
    pub yearly_fee_paid_until: Option<DateTime<Utc>>,
    /// When the oldest unpaid, issued programme fee fell due.
    pub yearly_fee_due_at: Option<DateTime<Utc>>,
    /// For a partner at its programme's entry tier in a programme with a questionnaire: whether
    /// it has answered. None otherwise (the requirement is not shown).
    pub questionnaire_answered: Option<bool>,
}

/// Days a programme fee may stay unpaid after it fell due before it counts as not paid.
pub const FEE_TOLERANCE_DAYS: i64 = 30;

impl PartnerFacts {
    /// Since when the fee is more than `FEE_TOLERANCE_DAYS` overdue, if it is.
    pub fn fee_overdue_since(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        fee_overdue_since(self.yearly_fee_paid_until, self.yearly_fee_due_at, now)
    }
}

/// When the fee fell due, if it is unpaid more than `FEE_TOLERANCE_DAYS` after that.
pub fn fee_overdue_since(
    paid_until: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if paid_until.is_some_and(|until| until > now) {
        return None;
    }
    due_at.filter(|due| now > *due + TimeDelta::days(FEE_TOLERANCE_DAYS))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequirementKind {
    BasicTraining,
    Certifications,
    YearlyPurchaseVolume,
    SuccessStories,
    YearlyFee,
    /// The programme's onboarding questionnaire answered (before the first tier above entry).
    Questionnaire,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequirementResult {
    pub kind: RequirementKind,
    pub target: String,
    pub current: String,
    pub met: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierResult {
    pub tier_id: Uuid,
    pub name: String,
    pub rank: i32,
    pub requirements: Vec<RequirementResult>,
    pub met: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    /// Every tier, lowest rank first.
    pub tiers: Vec<TierResult>,
    /// The highest tier whose requirements, and those of every tier below it, are all met.
    pub highest_met: Option<Uuid>,
    /// The unmet requirements of the tier above `highest_met` (empty at the top).
    pub missing_for_next: Vec<RequirementResult>,
}

fn yes_no(b: bool) -> String {
    if b { "yes".into() } else { "no".into() }
}

fn certification(req: &CertificationRequirement, facts: &PartnerFacts, now: DateTime<Utc>) -> RequirementResult {
    let deadline = req.within_months_of_joining.and_then(|m| facts.joined_at.checked_add_months(Months::new(m)));
    let counted: Vec<&ExamPass> = facts
        .exams
        .iter()
        .filter(|e| e.certifying)
        .filter(|e| e.expires_at.is_none_or(|at| at > now))
        .filter(|e| deadline.is_none_or(|d| e.passed_at <= d))
        .collect();
    let mut people: Vec<Uuid> = counted.iter().map(|e| e.person).collect();
    people.sort();
    people.dedup();
    let exams = counted.len() as u32;
    let distinct = people.len() as u32;
    let mut target = format!("{} exams by at least {} people", req.exams, req.distinct_people);
    if let Some(m) = req.within_months_of_joining {
        target.push_str(&format!(" within {m} months of joining"));
    }
    RequirementResult {
        kind: RequirementKind::Certifications,
        target,
        current: format!("{exams} exams by {distinct} people"),
        met: exams >= req.exams && distinct >= req.distinct_people,
    }
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

fn requirements(
    reqs: &Requirements,
    facts: &PartnerFacts,
    now: DateTime<Utc>,
    above_entry: bool,
) -> Vec<RequirementResult> {
    let mut out = Vec::new();
    if let (true, Some(answered)) = (above_entry, facts.questionnaire_answered) {
        out.push(RequirementResult {
            kind: RequirementKind::Questionnaire,
            target: "answered".into(),
            current: yes_no(answered),
            met: answered,
        });
    }
    if reqs.basic_training {
        out.push(RequirementResult {
            kind: RequirementKind::BasicTraining,
            target: "passed".into(),
            current: yes_no(facts.basic_training_passed),
            met: facts.basic_training_passed,
        });
    }
    if let Some(c) = &reqs.certifications {
        out.push(certification(c, facts, now));
    }
    if let Some(volume) = reqs.yearly_purchase_volume {
        out.push(RequirementResult {
            kind: RequirementKind::YearlyPurchaseVolume,
            target: volume.to_string(),
            current: facts.committed_yearly_volume.to_string(),
            met: facts.committed_yearly_volume >= volume,
        });
    }
    if let Some(stories) = reqs.success_stories {
        let year_ago = now.checked_sub_months(Months::new(12)).unwrap_or(now);
        let recent = facts.accepted_stories.iter().filter(|at| **at > year_ago && **at <= now).count() as u32;
        out.push(RequirementResult {
            kind: RequirementKind::SuccessStories,
            target: format!("{stories} in the last 12 months"),
            current: recent.to_string(),
            met: recent >= stories,
        });
    }
    if reqs.yearly_fee {
        let paid = facts.yearly_fee_paid_until.is_some_and(|until| until > now);
        // A fee that fell due counts as paid for its first 30 days: the invoice needs time.
        let (current, met) = match facts.yearly_fee_due_at {
            Some(due) if !paid => (format!("due since {}", day(due)), now <= due + TimeDelta::days(FEE_TOLERANCE_DAYS)),
            _ => (yes_no(paid), paid),
        };
        out.push(RequirementResult { kind: RequirementKind::YearlyFee, target: "paid".into(), current, met });
    }
    out
}

pub fn evaluate(tiers: &[TierDefinition], facts: &PartnerFacts, now: DateTime<Utc>) -> Evaluation {
    let mut sorted: Vec<&TierDefinition> = tiers.iter().collect();
    sorted.sort_by_key(|t| t.rank);
    let entry_rank = sorted.first().map(|t| t.rank);
    let results: Vec<TierResult> = sorted
        .iter()
        .map(|t| {
            let requirements = requirements(&t.requirements, facts, now, Some(t.rank) != entry_rank);
            let met = requirements.iter().all(|r| r.met);
            TierResult { tier_id: t.id, name: t.name.clone(), rank: t.rank, requirements, met }
        })
        .collect();
    // Tiers are a ladder: a tier counts only when every tier below it is met too.
    let reached = results.iter().take_while(|t| t.met).count();
    let highest_met = reached.checked_sub(1).and_then(|i| results.get(i)).map(|t| t.tier_id);
    let missing_for_next =
        results.get(reached).map(|t| t.requirements.iter().filter(|r| !r.met).cloned().collect()).unwrap_or_default();
    Evaluation { tiers: results, highest_met, missing_for_next }
}

/// A partnership's grace period, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grace {
    pub started_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// What the daily review decides for one partnership.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    pub grace: GraceStep,
    /// The proposal that should be open (none: withdraw any open one).
    pub proposal: Option<(Direction, Uuid)>,
    /// What the partner misses for its current tier (texts), empty when it meets it.
    pub missing: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraceStep {
    /// Nothing changes.
    Keep,
    /// The partner stopped meeting its tier: the grace period starts and ends then.
    Start(Grace),
    /// The partner meets its tier again within the grace period: it closes.
    Recover,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    Upgrade,
    Downgrade,
}

/// The end of a grace period that starts `at`: midnight (UTC) of the day `months` later, so it
/// ends on a calendar day whatever the hour of the review that started it.
pub fn grace_end(at: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    let later = at.checked_add_months(Months::new(months)).unwrap_or(at);
    later.date_naive().and_time(NaiveTime::MIN).and_utc()
}

fn missing_texts(results: &[RequirementResult]) -> impl Iterator<Item = String> + '_ {
    results.iter().filter(|r| !r.met).map(|r| format!("{:?}: {} (now {})", r.kind, r.target, r.current))
}

/// Eligibility against assignment: an upgrade is proposed as soon as the partner is eligible; a
/// partner who stops meeting its tier (or whose fee is over 30 days overdue) keeps the tier for a
/// grace period, and a downgrade is proposed only once it has ended, to the highest tier below
/// that it meets (the entry tier at least). Recovery within the grace period closes it.
pub fn review(
    current_tier: Uuid,
    evaluation: &Evaluation,
    fee_overdue: Option<DateTime<Utc>>,
    grace: Option<Grace>,
    grace_months: u32,
    now: DateTime<Utc>,
) -> Review {
    let tiers = &evaluation.tiers;
    let Some(position) = tiers.iter().position(|t| t.tier_id == current_tier) else {
        return Review { grace: GraceStep::Keep, proposal: None, missing: Vec::new() };
    };
    let reached = tiers.iter().take_while(|t| t.met).count();
    let mut missing: Vec<String> = tiers[..=position].iter().flat_map(|t| missing_texts(&t.requirements)).collect();
    missing.dedup();
    if let Some(since) = fee_overdue {
        missing.push(format!("YearlyFee: overdue since {}", day(since)));
    }
    if missing.is_empty() {
        let grace = if grace.is_some() { GraceStep::Recover } else { GraceStep::Keep };
        let proposal = (reached > position + 1).then(|| (Direction::Upgrade, tiers[reached - 1].tier_id));
        return Review { grace, proposal, missing };
    }
    let (step, ends_at) = match grace {
        Some(g) => (GraceStep::Keep, g.ends_at),
        None => {
            let g = Grace { started_at: now, ends_at: grace_end(now, grace_months) };
            (GraceStep::Start(g), g.ends_at)
        }
    };
    let below = reached.min(position).max(1) - 1;
    let proposal = (now >= ends_at && below < position).then(|| (Direction::Downgrade, tiers[below].tier_id));
    Review { grace: step, proposal, missing }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-23T12:00:00Z".parse().unwrap()
    }

    fn facts() -> PartnerFacts {
        PartnerFacts {
            joined_at: now() - TimeDelta::days(100),
            basic_training_passed: false,
            exams: vec![],
            committed_yearly_volume: Decimal::ZERO,
            accepted_stories: vec![],
            yearly_fee_paid_until: None,
            yearly_fee_due_at: None,
            questionnaire_answered: None,
        }
    }

    fn only(reqs: Requirements, facts: &PartnerFacts) -> RequirementResult {
        let mut all = requirements(&reqs, facts, now(), false);
        assert_eq!(all.len(), 1);
        all.remove(0)
    }

    fn exam(person: u128, days_ago: i64) -> ExamPass {
        ExamPass {
            person: Uuid::from_u128(person),
            passed_at: now() - TimeDelta::days(days_ago),
            expires_at: None,
            certifying: true,
        }
    }

    #[test]
    fn requirements_and_benefits_round_trip_and_validate() {
        let reqs = Requirements {
            basic_training: true,
            certifications: Some(CertificationRequirement {
                exams: 3,
                distinct_people: 2,
                within_months_of_joining: Some(6),
            }),
            yearly_purchase_volume: Some(Decimal::new(5000, 0)),
            success_stories: Some(2),
            yearly_fee: false,
        };
        let json = serde_json::to_value(&reqs).unwrap();
        assert_eq!(json["certifications"]["distinctPeople"], 2);
        assert_eq!(json["yearlyPurchaseVolume"], "5000", "money stays a decimal string");
        assert_eq!(serde_json::from_value::<Requirements>(json).unwrap(), reqs);
        assert_eq!(serde_json::from_value::<Requirements>(serde_json::json!({})).unwrap(), Requirements::default());
        assert!(reqs.validate().is_ok());
        let more_people = CertificationRequirement { exams: 1, distinct_people: 2, within_months_of_joining: None };
        assert!(Requirements { certifications: Some(more_people), ..Default::default() }.validate().is_err());
        assert!(Requirements { success_stories: Some(0), ..Default::default() }.validate().is_err());

        assert!(Benefits { discount_percent: Decimal::new(35, 0), ..Default::default() }.validate().is_ok());
        assert!(Benefits { discount_percent: Decimal::new(3501, 2), ..Default::default() }.validate().is_err());
        assert!(Benefits { discount_percent: Decimal::new(-1, 0), ..Default::default() }.validate().is_err());
    }

    #[test]
    fn basic_training() {
        let req = Requirements { basic_training: true, ..Default::default() };
        assert!(!only(req.clone(), &facts()).met);
        assert!(only(req, &PartnerFacts { basic_training_passed: true, ..facts() }).met);
    }

    #[test]
    fn certifications_count_exams_and_people_at_the_boundary() {
        let req = Requirements {
            certifications: Some(CertificationRequirement {
                exams: 3,
                distinct_people: 2,
                within_months_of_joining: None,
            }),
            ..Default::default()
        };
        let two_exams = PartnerFacts { exams: vec![exam(1, 5), exam(2, 5)], ..facts() };
        assert!(!only(req.clone(), &two_exams).met, "one exam short");
        let one_person = PartnerFacts { exams: vec![exam(1, 5), exam(1, 6), exam(1, 7)], ..facts() };
        assert!(!only(req.clone(), &one_person).met, "three exams by one person");
        let exactly = PartnerFacts { exams: vec![exam(1, 5), exam(1, 6), exam(2, 7)], ..facts() };
        let result = only(req, &exactly);
        assert!(result.met, "exactly 3 over exactly 2");
        assert_eq!(result.current, "3 exams by 2 people");
    }

    #[test]
    fn certifications_expire_and_must_be_certifying_and_timely() {
        let req = Requirements {
            certifications: Some(CertificationRequirement {
                exams: 1,
                distinct_people: 1,
                within_months_of_joining: Some(2),
            }),
            ..Default::default()
        };
        // Joined 100 days ago: the window closed about 40 days ago.
        assert!(
            !only(req.clone(), &PartnerFacts { exams: vec![exam(1, 10)], ..facts() }).met,
            "too late after joining"
        );
        assert!(
            only(req.clone(), &PartnerFacts { exams: vec![exam(1, 90)], ..facts() }).met,
            "within two months of joining"
        );
        let expired = ExamPass { expires_at: Some(now() - TimeDelta::days(1)), ..exam(1, 90) };
        assert!(!only(req.clone(), &PartnerFacts { exams: vec![expired], ..facts() }).met, "expired");
        let online = ExamPass { certifying: false, ..exam(1, 90) };
        assert!(!only(req, &PartnerFacts { exams: vec![online], ..facts() }).met, "not a certifying course");
    }

    #[test]
    fn purchase_volume_boundary() {
        let req = Requirements { yearly_purchase_volume: Some(Decimal::new(180000, 2)), ..Default::default() };
        assert!(!only(req.clone(), &PartnerFacts { committed_yearly_volume: Decimal::new(179999, 2), ..facts() }).met);
        assert!(
            only(req, &PartnerFacts { committed_yearly_volume: Decimal::new(1800, 0), ..facts() }).met,
            "exactly 1800.00"
        );
    }

    #[test]
    fn success_stories_in_the_last_twelve_months() {
        let req = Requirements { success_stories: Some(1), ..Default::default() };
        let old =
            PartnerFacts { accepted_stories: vec![now().checked_sub_months(Months::new(13)).unwrap()], ..facts() };
        assert!(!only(req.clone(), &old).met, "13 months old does not count");
        let recent =
            PartnerFacts { accepted_stories: vec![now().checked_sub_months(Months::new(11)).unwrap()], ..facts() };
        assert!(only(req, &recent).met);
    }

    #[test]
    fn yearly_fee() {
        let req = Requirements { yearly_fee: true, ..Default::default() };
        assert!(
            !only(req.clone(), &PartnerFacts { yearly_fee_paid_until: Some(now() - TimeDelta::days(1)), ..facts() })
                .met
        );
        assert!(only(req, &PartnerFacts { yearly_fee_paid_until: Some(now() + TimeDelta::days(1)), ..facts() }).met);
    }

    #[test]
    fn a_billed_fee_counts_as_paid_for_thirty_days_after_it_fell_due() {
        let req = Requirements { yearly_fee: true, ..Default::default() };
        let due = |days: i64| PartnerFacts { yearly_fee_due_at: Some(now() - TimeDelta::days(days)), ..facts() };
        let within = only(req.clone(), &due(30));
        assert!(within.met);
        assert_eq!(within.current, "due since 2026-10-24");
        assert_eq!(due(30).fee_overdue_since(now()), None);
        assert!(!only(req, &due(31)).met);
        assert_eq!(due(31).fee_overdue_since(now()), Some(now() - TimeDelta::days(31)));
        let paid = PartnerFacts { yearly_fee_paid_until: Some(now() + TimeDelta::days(300)), ..due(40) };
        assert_eq!(paid.fee_overdue_since(now()), None, "a later payment settles it");
    }

    #[test]
    fn the_questionnaire_is_a_requirement_of_every_tier_above_entry_while_it_applies() {
        let open = PartnerFacts { questionnaire_answered: Some(false), ..facts() };
        let e = evaluate(&ladder(), &PartnerFacts { basic_training_passed: true, ..open.clone() }, now());
        assert!(e.tiers[0].requirements.is_empty(), "not on the entry tier");
        assert_eq!(e.tiers[1].requirements[0].kind, RequirementKind::Questionnaire);
        assert!(!e.tiers[1].requirements[0].met);
        let answered = PartnerFacts { questionnaire_answered: Some(true), ..open };
        assert!(evaluate(&ladder(), &answered, now()).tiers[2].requirements[0].met);
        assert!(
            evaluate(&ladder(), &facts(), now()).tiers[1]
                .requirements
                .iter()
                .all(|r| r.kind != RequirementKind::Questionnaire)
        );
    }

    /// Registered, Silver (one story), Gold (two stories), for the grace tests.
    fn stories_ladder() -> Vec<TierDefinition> {
        [(1, "Registered", None), (2, "Silver", Some(1)), (3, "Gold", Some(2))]
            .into_iter()
            .map(|(rank, name, stories)| TierDefinition {
                id: Uuid::from_u128(rank as u128),
                name: name.into(),
                rank,
                requirements: Requirements { success_stories: stories, ..Default::default() },
            })
            .collect()
    }

    fn reviewed(stories: usize, current: u128, grace: Option<Grace>, at: DateTime<Utc>) -> Review {
        let facts = PartnerFacts { accepted_stories: vec![at - TimeDelta::days(1); stories], ..facts() };
        let e = evaluate(&stories_ladder(), &facts, at);
        review(Uuid::from_u128(current), &e, facts.fee_overdue_since(at), grace, 1, at)
    }

    #[test]
    fn an_upgrade_is_proposed_at_once() {
        let r = reviewed(2, 2, None, now());
        assert_eq!(r.proposal, Some((Direction::Upgrade, Uuid::from_u128(3))));
        assert_eq!(r.grace, GraceStep::Keep);
        assert_eq!(reviewed(1, 2, None, now()).proposal, None, "at its tier: nothing");
    }

    #[test]
    fn a_downgrade_waits_for_the_grace_period_to_end_on_its_day() {
        let start = reviewed(1, 3, None, now());
        let GraceStep::Start(grace) = start.grace else { panic!("{start:?}") };
        assert_eq!(grace.ends_at, "2026-12-23T00:00:00Z".parse::<DateTime<Utc>>().unwrap());
        assert_eq!(start.proposal, None, "the tier stays");
        assert!(start.missing[0].starts_with("SuccessStories"), "{:?}", start.missing);
        let day_before = reviewed(1, 3, Some(grace), grace.ends_at - TimeDelta::hours(1));
        assert_eq!((day_before.grace, day_before.proposal), (GraceStep::Keep, None));
        let day_of = reviewed(1, 3, Some(grace), grace.ends_at + TimeDelta::hours(9));
        assert_eq!(day_of.proposal, Some((Direction::Downgrade, Uuid::from_u128(2))), "to the highest tier met");
        let none_met = reviewed(0, 3, Some(grace), grace.ends_at);
        assert_eq!(none_met.proposal, Some((Direction::Downgrade, Uuid::from_u128(1))));
    }

    #[test]
    fn recovery_within_the_grace_period_closes_it() {
        let grace = Grace { started_at: now(), ends_at: grace_end(now(), 1) };
        let r = reviewed(2, 3, Some(grace), now() + TimeDelta::days(10));
        assert_eq!((r.grace, r.proposal), (GraceStep::Recover, None));
        assert!(r.missing.is_empty());
    }

    #[test]
    fn an_overdue_fee_starts_the_grace_period_even_when_no_tier_requires_it() {
        let facts = PartnerFacts {
            accepted_stories: vec![now() - TimeDelta::days(1); 2],
            yearly_fee_due_at: Some(now() - TimeDelta::days(31)),
            ..facts()
        };
        let e = evaluate(&stories_ladder(), &facts, now());
        let r = review(Uuid::from_u128(3), &e, facts.fee_overdue_since(now()), None, 1, now());
        assert!(matches!(r.grace, GraceStep::Start(_)), "{r:?}");
        assert_eq!(r.missing, ["YearlyFee: overdue since 2026-10-23"]);
        let ended = Grace { started_at: now(), ends_at: now() };
        let r = review(Uuid::from_u128(3), &e, facts.fee_overdue_since(now()), Some(ended), 1, now());
        assert_eq!(r.proposal, Some((Direction::Downgrade, Uuid::from_u128(2))), "one tier down");
    }

    fn ladder() -> Vec<TierDefinition> {
        let tier = |rank: i32, name: &str, requirements| TierDefinition {
            id: Uuid::from_u128(rank as u128),
            name: name.into(),
            rank,
            requirements,
        };
        vec![
            tier(3, "Gold", Requirements { basic_training: true, success_stories: Some(2), ..Default::default() }),
            tier(1, "Registered", Requirements::default()),
            tier(2, "Silver", Requirements { basic_training: true, success_stories: Some(1), ..Default::default() }),
        ]
    }

    #[test]
    fn the_highest_tier_met_and_what_is_missing_for_the_next() {
        let story = now() - TimeDelta::days(30);
        let silver = PartnerFacts { basic_training_passed: true, accepted_stories: vec![story], ..facts() };
        let e = evaluate(&ladder(), &silver, now());
        assert_eq!(e.tiers.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["Registered", "Silver", "Gold"]);
        assert_eq!(e.highest_met, Some(Uuid::from_u128(2)));
        assert_eq!(e.missing_for_next.len(), 1);
        assert_eq!(e.missing_for_next[0].kind, RequirementKind::SuccessStories);
        assert_eq!(e.missing_for_next[0].current, "1");

        let none = evaluate(&ladder(), &facts(), now());
        assert_eq!(none.highest_met, Some(Uuid::from_u128(1)), "Registered has no requirements");
        let top = PartnerFacts { accepted_stories: vec![story, story], ..silver };
        let e = evaluate(&ladder(), &top, now());
        assert_eq!(e.highest_met, Some(Uuid::from_u128(3)));
        assert!(e.missing_for_next.is_empty());
    }

    #[test]
    fn a_tier_counts_only_when_those_below_are_met() {
        // Meets Gold's stories but not Silver's training: stays at Registered.
        let tiers = vec![
            TierDefinition {
                id: Uuid::from_u128(1),
                name: "Registered".into(),
                rank: 1,
                requirements: Requirements::default(),
            },
            TierDefinition {
                id: Uuid::from_u128(2),
                name: "Silver".into(),
                rank: 2,
                requirements: Requirements { basic_training: true, ..Default::default() },
            },
            TierDefinition {
                id: Uuid::from_u128(3),
                name: "Gold".into(),
                rank: 3,
                requirements: Requirements { success_stories: Some(1), ..Default::default() },
            },
        ];
        let facts = PartnerFacts { accepted_stories: vec![now() - TimeDelta::days(1)], ..facts() };
        let e = evaluate(&tiers, &facts, now());
        assert!(e.tiers[2].met);
        assert_eq!(e.highest_met, Some(Uuid::from_u128(1)));
        assert_eq!(e.missing_for_next[0].kind, RequirementKind::BasicTraining);
    }
}
