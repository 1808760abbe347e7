//! Catalogue search for Vietnamese text, in memory.
//!
//! Citizens type without diacritics, in capitals, decomposed (NFD) or with small typos; the catalogue is
//! written with full diacritics. Everything is folded the same way ([`fold`]: NFD, combining marks dropped,
//! `đ` → `d`, lower case) before it is compared. Ranking weighs where a word matched (name first), how it matched
//! (exact, prefix, one typo) and whether the whole query stands in the name as a phrase.
//!
//! The index is built once from the catalogue (thousands of documents) and queried without locks; a server
//! rebuilds it when the catalogue changes.

use std::collections::HashMap;
use std::ops::Range;
use unicode_normalization::UnicodeNormalization;

/// Fold one character: the base letters it decomposes to, lower case, without marks; `đ`/`Đ` → `d`.
fn fold_char(c: char, out: &mut String) {
    match c {
        'đ' | 'Đ' => out.push('d'),
        _ => {
            for d in std::iter::once(c).nfd() {
                if !is_combining_mark(d) {
                    out.extend(d.to_lowercase());
                }
            }
        }
    }
}

fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}')
}

/// `Đăng ký KHAI SINH` → `dang ky khai sinh`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // compose first: a decomposed "đ" does not exist, but decomposed vowels are recomposed then re-split the same
    for c in text.nfc() {
        fold_char(c, &mut out);
    }
    out
}

/// A word of a text: its folded form and where it stands in the original (byte range).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub folded: String,
    pub span: Range<usize>,
}

/// Split into words (letters and digits), folding each, keeping original byte spans for highlighting.
/// `text` should be NFC (the catalogue is stored NFC).
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut current: Option<Token> = None;
    for (i, c) in text.char_indices() {
        // a combining mark belongs to the word it follows (decomposed text); folding drops it
        if c.is_alphanumeric() || (current.is_some() && is_combining_mark(c)) {
            let token = current.get_or_insert_with(|| Token {
                folded: String::new(),
                span: i..i,
            });
            fold_char(c, &mut token.folded);
            token.span.end = i + c.len_utf8();
        } else if let Some(token) = current.take() {
            tokens.push(token);
        }
    }
    tokens.extend(current);
    tokens
}

/// Where a word of a document stands, with the weight of matching there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    Name,
    Code,
    Field,
    Agency,
    Component,
}

impl Section {
    fn weight(self) -> f32 {
        match self {
            Section::Name => 10.0,
            Section::Code => 8.0,
            Section::Field => 3.0,
            Section::Agency => 2.0,
            Section::Component => 1.0,
        }
    }
}

/// A document to index: an opaque key (the procedure code) and its texts by section.
#[derive(Debug, Clone, Default)]
pub struct Document {
    pub key: String,
    pub name: String,
    pub texts: Vec<(Section, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Quality {
    Exact,
    Prefix,
    Typo,
}

impl Quality {
    fn factor(self) -> f32 {
        match self {
            Quality::Exact => 1.0,
            Quality::Prefix => 0.7,
            Quality::Typo => 0.45,
        }
    }
}

/// One hit: the document's position in the order it was indexed, its score, and where the query matched in its
/// name (byte ranges of the original name, for `<mark>`).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub doc: usize,
    pub key: String,
    pub score: f32,
    pub name_highlights: Vec<Range<usize>>,
}

/// Limits that keep a hostile query cheap.
pub const MAX_QUERY_CHARS: usize = 200;
pub const MAX_QUERY_WORDS: usize = 12;

#[derive(Debug, Default)]
struct Posting {
    doc: u32,
    weight: f32,
}

/// The in-memory index.
#[derive(Debug, Default)]
pub struct Index {
    keys: Vec<String>,
    names: Vec<String>,
    name_tokens: Vec<Vec<Token>>,
    folded_names: Vec<String>,
    /// folded word → documents containing it, with the best section weight
    postings: HashMap<String, Vec<Posting>>,
    /// every folded word, sorted (prefix ranges, typo scans)
    vocabulary: Vec<String>,
}

impl Index {
    pub fn build(documents: impl IntoIterator<Item = Document>) -> Index {
        let mut index = Index::default();
        for document in documents {
            let doc = index.keys.len() as u32;
            let mut best: HashMap<String, f32> = HashMap::new();
            let name_tokens = tokenize(&document.name);
            for token in &name_tokens {
                let w = best.entry(token.folded.clone()).or_default();
                *w = w.max(Section::Name.weight());
            }
            for (section, text) in &document.texts {
                for token in tokenize(text) {
                    let w = best.entry(token.folded).or_default();
                    *w = w.max(section.weight());
                }
            }
            for (word, weight) in best {
                index
                    .postings
                    .entry(word)
                    .or_default()
                    .push(Posting { doc, weight });
            }
            index.folded_names.push(fold(&document.name));
            index.name_tokens.push(name_tokens);
            index.keys.push(document.key);
            index.names.push(document.name);
        }
        index.vocabulary = index.postings.keys().cloned().collect();
        index.vocabulary.sort_unstable();
        index
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Vocabulary words that a query word matches, with how.
    fn expand(&self, word: &str) -> Vec<(&str, Quality)> {
        let mut out = Vec::new();
        if let Some((known, _)) = self.postings.get_key_value(word) {
            out.push((known.as_str(), Quality::Exact));
        }
        // prefix: "khai" finds "khaisinh"-like words; one letter is too broad except for digits
        let min_prefix = if word.chars().all(|c| c.is_ascii_digit()) {
            1
        } else {
            2
        };
        if word.chars().count() >= min_prefix {
            let start = self.vocabulary.partition_point(|v| v.as_str() < word);
            for v in &self.vocabulary[start..] {
                if !v.starts_with(word) {
                    break;
                }
                if v != word {
                    out.push((v.as_str(), Quality::Prefix));
                }
            }
        }
        // typos, only for a word the catalogue does not contain as it is (Vietnamese syllables are short and
        // close to each other: "dang" is one edit from "vang", "sang", "danh"): one edit for 4+ letters, two for 8+
        if out.first().is_some_and(|(_, q)| *q == Quality::Exact) {
            return out;
        }
        let len = word.chars().count();
        let max_edits = match len {
            0..=3 => 0,
            4..=7 => 1,
            _ => 2,
        };
        if max_edits > 0 {
            for v in &self.vocabulary {
                let vlen = v.chars().count();
                if vlen.abs_diff(len) > max_edits || v == word || v.starts_with(word) {
                    continue;
                }
                if within_edits(word, v, max_edits) {
                    out.push((v.as_str(), Quality::Typo));
                }
            }
        }
        out
    }

    /// Search. Every query word must match somewhere (exactly, as a prefix, or with a small typo); results are
    /// ranked best first. At most `limit` hits.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        // NFC first: a decomposed "ă" is two characters, and the mark alone is not a letter
        let query: String = query
            .nfc()
            .filter(|c| !c.is_control())
            .take(MAX_QUERY_CHARS)
            .collect();
        let words: Vec<String> = tokenize(&query)
            .into_iter()
            .map(|t| t.folded)
            .take(MAX_QUERY_WORDS)
            .collect();
        if words.is_empty() {
            return Vec::new();
        }
        // per document: score so far and how many query words matched
        let mut scores: HashMap<u32, (f32, usize)> = HashMap::new();
        let mut matched_words: Vec<Vec<(&str, Quality)>> = Vec::with_capacity(words.len());
        for (i, word) in words.iter().enumerate() {
            let expansions = self.expand(word);
            let mut best_here: HashMap<u32, f32> = HashMap::new();
            for (v, quality) in &expansions {
                for p in self.postings.get(*v).map(Vec::as_slice).unwrap_or_default() {
                    let s = p.weight * quality.factor();
                    let e = best_here.entry(p.doc).or_default();
                    *e = e.max(s);
                }
            }
            for (doc, s) in best_here {
                let e = scores.entry(doc).or_insert((0.0, 0));
                if e.1 == i {
                    e.0 += s;
                    e.1 += 1;
                }
            }
            matched_words.push(expansions);
        }
        let folded_query = words.join(" ");
        let mut hits: Vec<Hit> = scores
            .into_iter()
            .filter(|(_, (_, n))| *n == words.len())
            .map(|(doc, (score, _))| {
                let d = doc as usize;
                let name = &self.folded_names[d];
                let mut score = score;
                if name.contains(&folded_query) {
                    score += 15.0;
                    if name.starts_with(&folded_query) {
                        score += 5.0;
                    }
                }
                // shorter names are more specific matches
                score -= name.len() as f32 * 0.01;
                Hit {
                    doc: d,
                    key: self.keys[d].clone(),
                    score,
                    name_highlights: self.highlights(d, &matched_words),
                }
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.key.cmp(&b.key)));
        hits.truncate(limit);
        hits
    }

    fn highlights(&self, doc: usize, matched: &[Vec<(&str, Quality)>]) -> Vec<Range<usize>> {
        self.name_tokens[doc]
            .iter()
            .filter(|t| {
                matched
                    .iter()
                    .any(|m| m.iter().any(|(v, _)| *v == t.folded))
            })
            .map(|t| t.span.clone())
            .collect()
    }

    pub fn name(&self, doc: usize) -> &str {
        &self.names[doc]
    }
}

/// Damerau–Levenshtein (optimal string alignment) distance ≤ `max`, on chars.
fn within_edits(a: &str, b: &str, max: usize) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut prev2 = vec![0usize; m + 1];
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur = vec![0usize; m + 1];
    for i in 1..=n {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return false;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[m] <= max
}

/// Wrap the highlighted ranges of `text` with `open`/`close`, escaping everything for HTML.
pub fn highlight_html(text: &str, ranges: &[Range<usize>], open: &str, close: &str) -> String {
    let mut out = String::with_capacity(text.len() + ranges.len() * 13);
    let mut at = 0;
    let mut ranges: Vec<&Range<usize>> = ranges.iter().filter(|r| r.end <= text.len()).collect();
    ranges.sort_by_key(|r| r.start);
    for r in ranges {
        if r.start < at || !text.is_char_boundary(r.start) || !text.is_char_boundary(r.end) {
            continue;
        }
        escape_into(&text[at..r.start], &mut out);
        out.push_str(open);
        escape_into(&text[r.clone()], &mut out);
        out.push_str(close);
        at = r.end;
    }
    escape_into(&text[at..], &mut out);
    out
}

fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folding_drops_diacritics_and_case_and_maps_d() {
        assert_eq!(fold("Đăng ký KHAI SINH"), "dang ky khai sinh");
        assert_eq!(fold("ĐĂNG KÝ KẾT HÔN"), "dang ky ket hon");
        assert_eq!(fold("Người nước ngoài"), "nguoi nuoc ngoai");
        // decomposed input folds and splits the same as composed
        let nfd: String = "Đăng ký khai sinh".nfd().collect();
        assert_eq!(fold(&nfd), "dang ky khai sinh");
        let words: Vec<String> = tokenize(&nfd).into_iter().map(|t| t.folded).collect();
        assert_eq!(words, ["dang", "ky", "khai", "sinh"]);
        assert_eq!(catalogue().search(&nfd, 1)[0].key, "1.001193");
    }

    fn catalogue() -> Index {
        let doc = |key: &str, name: &str, field: &str| Document {
            key: key.into(),
            name: name.into(),
            texts: vec![(Section::Code, key.into()), (Section::Field, field.into())],
        };
        Index::build([
            doc("1.001193", "Đăng ký khai sinh", "Hộ tịch"),
            doc("1.000894", "Đăng ký kết hôn", "Hộ tịch"),
            doc("1.004194", "Đăng ký tạm trú", "Cư trú"),
            doc(
                "2.000986",
                "Đăng ký khai sinh có yếu tố nước ngoài",
                "Hộ tịch",
            ),
            doc(
                "1.009974",
                "Cấp giấy phép xây dựng nhà ở riêng lẻ",
                "Xây dựng",
            ),
        ])
    }

    #[test]
    fn with_or_without_diacritics_the_same_procedure_comes_first() {
        let index = catalogue();
        for q in [
            "dang ky khai sinh",
            "Đăng ký khai sinh",
            "ĐĂNG KÝ KHAI SINH",
            "đăng ky khai sinh",
        ] {
            let hits = index.search(q, 10);
            assert_eq!(hits[0].key, "1.001193", "{q}");
            assert_eq!(hits.len(), 2, "{q}: both birth registrations, nothing else");
        }
    }

    #[test]
    fn prefixes_and_small_typos_still_find_it() {
        let index = catalogue();
        assert_eq!(index.search("khai si", 10)[0].key, "1.001193");
        assert_eq!(index.search("giay phep xay dung", 10)[0].key, "1.009974");
        assert_eq!(
            index.search("giay phep xay dugn", 10)[0].key,
            "1.009974",
            "transposition"
        );
        assert_eq!(
            index.search("ket hno", 10).first().map(|h| h.key.as_str()),
            None,
            "three-letter words get no typo tolerance"
        );
        assert_eq!(
            index.search("giấy phép xây dựnh", 10)[0].key,
            "1.009974",
            "one wrong letter"
        );
    }

    #[test]
    fn a_correctly_spelled_word_does_not_drag_in_look_alikes() {
        let index = Index::build([
            Document {
                key: "a".into(),
                name: "Đăng ký khai sinh".into(),
                texts: vec![],
            },
            Document {
                key: "b".into(),
                name: "Khai báo tạm vắng".into(),
                texts: vec![],
            },
        ]);
        let keys: Vec<_> = index
            .search("dang khai", 10)
            .into_iter()
            .map(|h| h.key)
            .collect();
        assert_eq!(
            keys,
            ["a"],
            "\"dang\" is a word of the catalogue, so \"vắng\" is not a typo of it"
        );
    }

    #[test]
    fn a_field_name_finds_its_procedures_but_below_name_matches() {
        let index = catalogue();
        let hits = index.search("ho tich", 10);
        assert_eq!(hits.len(), 3);
    }

    #[test]
    fn highlights_point_at_the_original_words() {
        let index = catalogue();
        let hit = &index.search("khai sinh", 1)[0];
        let name = index.name(hit.doc);
        let marked = highlight_html(name, &hit.name_highlights, "<mark>", "</mark>");
        assert_eq!(marked, "Đăng ký <mark>khai</mark> <mark>sinh</mark>");
    }

    #[test]
    fn nothing_matches_gives_nothing() {
        let index = catalogue();
        assert!(index.search("zzzz qqqq", 10).is_empty());
        assert!(index.search("   ", 10).is_empty());
        assert!(index.search("\u{0}\u{7}", 10).is_empty());
    }

    #[test]
    fn html_in_names_is_escaped() {
        assert_eq!(
            highlight_html("a<b>&\"'", &[], "<mark>", "</mark>"),
            "a&lt;b&gt;&amp;&quot;&#39;"
        );
    }

    proptest! {
        #[test]
        fn any_query_is_answered_without_panic(q in ".{0,300}") {
            let index = catalogue();
            let _ = index.search(&q, 10);
        }

        #[test]
        fn folding_is_idempotent(s in "\\PC{0,40}") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once.clone());
        }

        #[test]
        fn edit_distance_agrees_with_itself(a in "[a-d]{0,8}", b in "[a-d]{0,8}") {
            prop_assert!(within_edits(&a, &a, 0));
            prop_assert_eq!(within_edits(&a, &b, 2), within_edits(&b, &a, 2));
        }
    }
}
