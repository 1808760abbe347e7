//! A dossier's answers as the citizen's check page and the officer's dossier page show them, section by section.

use motcua_domain::form::{Answers, FormDefinition};

pub(crate) struct AnswerRow {
    pub label: String,
    pub value: String,
    pub change: String,
}

pub(crate) struct AnswerSection {
    pub title: String,
    pub rows: Vec<AnswerRow>,
}

/// The answers as shown on "check your answers" and on the dossier page.
pub(crate) fn answer_sections(
    form: &FormDefinition,
    answers: &Answers,
    base: Option<&str>,
) -> Vec<AnswerSection> {
    form.pages
        .iter()
        .enumerate()
        .map(|(i, p)| AnswerSection {
            title: p.title.clone(),
            rows: p
                .fields
                .iter()
                .filter(|f| form.is_visible(f, answers))
                .map(|f| AnswerRow {
                    label: f.label.clone(),
                    value: form.display_answer(f, answers),
                    change: base
                        .map(|b| format!("{b}/trang/{}#{}", i + 1, f.key))
                        .unwrap_or_default(),
                })
                .collect(),
        })
        .collect()
}
