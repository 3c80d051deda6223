//! The onboarding questionnaire: questions staff define as versioned data, and a partner's
//! answers checked against the version they answer. Pure: the service stores both as JSON.

use std::collections::{BTreeMap, HashSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QuestionKind {
    SingleChoice,
    MultipleChoice,
    FreeText,
    Number,
    YesNo,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Question {
    /// Stable within a version; answers name it.
    pub key: String,
    pub kind: QuestionKind,
    pub label: String,
    pub required: bool,
    /// The choices of a choice question (empty otherwise).
    #[serde(default)]
    pub options: Vec<String>,
    /// Help text by language (ISO 639-1), optional.
    #[serde(default)]
    pub help: BTreeMap<String, String>,
}

impl Question {
    /// The help text in `language`, else in English, else in any language given.
    pub fn help_in(&self, language: &str) -> Option<&str> {
        self.help
            .get(language)
            .or_else(|| self.help.get("en"))
            .or_else(|| self.help.values().next())
            .map(String::as_str)
    }
}

/// One answer; which value is set depends on the question's kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Answer {
    pub key: String,
    pub text: Option<String>,
    pub number: Option<Decimal>,
    pub choices: Vec<String>,
    pub yes: Option<bool>,
}

pub const MAX_QUESTIONS: usize = 50;
pub const MAX_TEXT: usize = 2000;
const MAX_OPTIONS: usize = 30;

/// A bad part of the input: the field path (e.g. `questions[2].options`) and why.
pub type Invalid = (String, String);

fn bad(field: String, why: &str) -> Invalid {
    (field, why.to_string())
}

fn plain(text: &str, max: usize) -> bool {
    let t = text.trim();
    !t.is_empty() && t.chars().count() <= max && !t.chars().any(|c| c.is_control() && c != '\n')
}

/// Checks a questionnaire before it is published.
pub fn validate_questions(questions: &[Question]) -> Result<(), Invalid> {
    if questions.is_empty() || questions.len() > MAX_QUESTIONS {
        return Err(bad("questions".into(), "must hold 1 to 50 questions"));
    }
    let mut keys = HashSet::new();
    for (i, q) in questions.iter().enumerate() {
        let at = |part: &str| format!("questions[{i}].{part}");
        let key_ok = !q.key.is_empty()
            && q.key.len() <= 40
            && q.key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            return Err(bad(at("key"), "must be 1 to 40 characters of a-z, 0-9 and _"));
        }
        if !keys.insert(q.key.as_str()) {
            return Err(bad(at("key"), "is used by another question"));
        }
        if !plain(&q.label, 300) {
            return Err(bad(at("label"), "must be 1 to 300 characters of plain text"));
        }
        let choice = matches!(q.kind, QuestionKind::SingleChoice | QuestionKind::MultipleChoice);
        if choice {
            let distinct: HashSet<&str> = q.options.iter().map(|o| o.trim()).collect();
            if q.options.len() < 2 || q.options.len() > MAX_OPTIONS || distinct.len() != q.options.len() {
                return Err(bad(at("options"), "a choice question needs 2 to 30 different options"));
            }
            if !q.options.iter().all(|o| plain(o, 200)) {
                return Err(bad(at("options"), "each option is 1 to 200 characters of plain text"));
            }
        } else if !q.options.is_empty() {
            return Err(bad(at("options"), "only choice questions have options"));
        }
        for (language, text) in &q.help {
            if language.len() != 2 || !language.chars().all(|c| c.is_ascii_lowercase()) {
                return Err(bad(at("help.language"), "must be an ISO 639-1 code such as en or de"));
            }
            if !plain(text, 1000) {
                return Err(bad(at("help.text"), "must be 1 to 1000 characters of plain text"));
            }
        }
    }
    Ok(())
}

/// Checks answers against the questions they answer, and returns them in the questions'
/// order, trimmed. Every required question must be answered; no unknown key is accepted.
pub fn validate_answers(questions: &[Question], answers: &[Answer]) -> Result<Vec<Answer>, Invalid> {
    let mut seen = HashSet::new();
    for (i, a) in answers.iter().enumerate() {
        if !questions.iter().any(|q| q.key == a.key) {
            return Err(bad(format!("answers[{i}].key"), "is not a question of this questionnaire"));
        }
        if !seen.insert(a.key.as_str()) {
            return Err(bad(format!("answers[{i}].key"), "is answered twice"));
        }
    }
    let mut out = Vec::new();
    for q in questions {
        let Some((i, a)) = answers.iter().enumerate().find(|(_, a)| a.key == q.key) else {
            if q.required {
                return Err(bad(format!("answers.{}", q.key), "is required"));
            }
            continue;
        };
        let at = |part: &str| format!("answers[{i}].{part}");
        let others_empty = |text: bool, number: bool, choices: bool, yes: bool| {
            (text || a.text.is_none())
                && (number || a.number.is_none())
                && (choices || a.choices.is_empty())
                && (yes || a.yes.is_none())
        };
        let clean = match q.kind {
            QuestionKind::FreeText => {
                let text = a.text.as_deref().map(str::trim).unwrap_or_default();
                if !others_empty(true, false, false, false) || !plain(text, MAX_TEXT) {
                    return Err(bad(at("text"), "this question takes text, 1 to 2000 characters"));
                }
                Answer { key: q.key.clone(), text: Some(text.to_string()), ..Default::default() }
            }
            QuestionKind::Number => {
                let Some(n) = a.number.filter(|_| others_empty(false, true, false, false)) else {
                    return Err(bad(at("number"), "this question takes a number"));
                };
                if n.scale() > 4 || n.abs() > Decimal::from(1_000_000_000_000_i64) {
                    return Err(bad(at("number"), "must have at most 4 decimals and be below 10^12"));
                }
                Answer { key: q.key.clone(), number: Some(n.normalize()), ..Default::default() }
            }
            QuestionKind::YesNo => {
                let Some(yes) = a.yes.filter(|_| others_empty(false, false, false, true)) else {
                    return Err(bad(at("yes"), "this question takes yes (true) or no (false)"));
                };
                Answer { key: q.key.clone(), yes: Some(yes), ..Default::default() }
            }
            QuestionKind::SingleChoice | QuestionKind::MultipleChoice => {
                let picked: Vec<String> = a.choices.iter().map(|c| c.trim().to_string()).collect();
                let distinct: HashSet<&String> = picked.iter().collect();
                let count_ok = match q.kind {
                    QuestionKind::SingleChoice => picked.len() == 1,
                    _ => !picked.is_empty() && distinct.len() == picked.len(),
                };
                if !others_empty(false, false, true, false) || !count_ok {
                    return Err(bad(at("choices"), "pick one option (several, each once, for a multiple choice)"));
                }
                if !picked.iter().all(|p| q.options.iter().any(|o| o.trim() == p)) {
                    return Err(bad(at("choices"), "must be among the question's options"));
                }
                Answer { key: q.key.clone(), choices: picked, ..Default::default() }
            }
        };
        out.push(clean);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn questions() -> Vec<Question> {
        let q = |key: &str, kind, required, options: &[&str]| Question {
            key: key.into(),
            kind,
            label: format!("Question {key}"),
            required,
            options: options.iter().map(|o| o.to_string()).collect(),
            help: BTreeMap::from([("en".into(), "Help".into()), ("de".into(), "Hilfe".into())]),
        };
        vec![
            q("segment", QuestionKind::SingleChoice, true, &["SMB", "Enterprise"]),
            q("products", QuestionKind::MultipleChoice, false, &["Phones", "PBX", "Headsets"]),
            q("plan", QuestionKind::FreeText, true, &[]),
            q("staff", QuestionKind::Number, false, &[]),
            q("demo_room", QuestionKind::YesNo, true, &[]),
        ]
    }

    fn answers() -> Vec<Answer> {
        vec![
            Answer { key: "demo_room".into(), yes: Some(false), ..Default::default() },
            Answer { key: "segment".into(), choices: vec!["SMB".into()], ..Default::default() },
            Answer { key: "plan".into(), text: Some(" Hotels first. ".into()), ..Default::default() },
        ]
    }

    #[test]
    fn answers_come_back_in_question_order_and_trimmed() {
        assert_eq!(validate_questions(&questions()), Ok(()));
        let clean = validate_answers(&questions(), &answers()).unwrap();
        let keys: Vec<&str> = clean.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["segment", "plan", "demo_room"]);
        assert_eq!(clean[1].text.as_deref(), Some("Hotels first."));
    }

    #[test]
    fn each_kind_refuses_what_it_does_not_take() {
        let with = |a: Answer| {
            let mut all = answers();
            all.retain(|x| x.key != a.key);
            all.push(a);
            validate_answers(&questions(), &all).map(|_| ()).map_err(|(f, _)| f)
        };
        assert_eq!(
            with(Answer { key: "segment".into(), choices: vec!["Huge".into()], ..Default::default() }),
            Err("answers[2].choices".into())
        );
        assert_eq!(
            with(Answer {
                key: "segment".into(),
                choices: vec!["SMB".into(), "Enterprise".into()],
                ..Default::default()
            }),
            Err("answers[2].choices".into())
        );
        assert!(
            with(Answer { key: "products".into(), choices: vec!["PBX".into(), "Phones".into()], ..Default::default() })
                .is_ok()
        );
        assert_eq!(
            with(Answer { key: "products".into(), choices: vec!["PBX".into(), "PBX".into()], ..Default::default() }),
            Err("answers[3].choices".into())
        );
        assert_eq!(
            with(Answer { key: "staff".into(), text: Some("12".into()), ..Default::default() }),
            Err("answers[3].number".into())
        );
        assert_eq!(
            with(Answer { key: "demo_room".into(), text: Some("yes".into()), ..Default::default() }),
            Err("answers[2].yes".into())
        );
        assert_eq!(
            with(Answer { key: "plan".into(), text: Some("  ".into()), ..Default::default() }),
            Err("answers[2].text".into())
        );
        assert_eq!(
            with(Answer { key: "nope".into(), yes: Some(true), ..Default::default() }),
            Err("answers[3].key".into())
        );
        let missing = validate_answers(&questions(), &answers()[..2]);
        assert_eq!(missing.map_err(|(f, _)| f), Err("answers.plan".into()));
    }

    #[test]
    fn questions_are_checked_before_publishing() {
        let mut qs = questions();
        qs[1].key = "segment".into();
        assert_eq!(validate_questions(&qs).map_err(|(f, _)| f), Err("questions[1].key".into()));
        let mut qs = questions();
        qs[0].options = vec!["Only".into()];
        assert_eq!(validate_questions(&qs).map_err(|(f, _)| f), Err("questions[0].options".into()));
        let mut qs = questions();
        qs[2].options = vec!["x".into(), "y".into()];
        assert_eq!(validate_questions(&qs).map_err(|(f, _)| f), Err("questions[2].options".into()));
        let mut qs = questions();
        qs[4].help.insert("deu".into(), "Hilfe".into());
        assert_eq!(validate_questions(&qs).map_err(|(f, _)| f), Err("questions[4].help.language".into()));
        assert!(validate_questions(&[]).is_err());
    }

    #[test]
    fn help_falls_back_to_english() {
        let q = &questions()[0];
        assert_eq!(q.help_in("de"), Some("Hilfe"));
        assert_eq!(q.help_in("pl"), Some("Help"));
    }
}
