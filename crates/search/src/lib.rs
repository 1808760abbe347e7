//! Catalogue search for Vietnamese text, in memory.
//!
//! Citizens type without diacritics, in capitals, decomposed (NFD) or with small typos; the catalogue is
//! written with full diacritics. Everything is folded the same way ([`fold`]: NFD, combining marks dropped,
//! `đ` → `d`, lower case) before it is compared. Ranking weighs where a word matched (name first), how it matched
//! (exact, prefix, one typo) and whether the whole query stands in the name as a phrase.
//!
//! The index is built once from the catalogue (thousands of documents) and queried without locks; a server
//! rebuilds it when the catalogue changes.

use std::collections::{HashMap, HashSet};
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

/// One hit: the document's position in the order it was indexed, and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub doc: usize,
    pub score: f32,
}

/// The hits of one query, best first, and what is needed to mark the matches.
pub struct SearchResult<'a> {
    index: &'a Index,
    pub hits: Vec<Hit>,
    /// Every catalogue word some query word matched.
    matched: HashSet<&'a str>,
}

impl SearchResult<'_> {
    /// Where the query matched in a document's name (byte ranges of the original name, for `<mark>`).
    pub fn highlights(&self, doc: usize) -> Vec<Range<usize>> {
        self.index.name_tokens[doc]
            .iter()
            .filter(|t| self.matched.contains(t.folded.as_str()))
            .map(|t| t.span.clone())
            .collect()
    }

    /// Keys of the hits, best first.
    pub fn keys(&self) -> Vec<&str> {
        self.hits.iter().map(|h| self.index.key(h.doc)).collect()
    }
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

    /// Search. Every query word must match (exactly, as a prefix, or with a small typo); hits are ranked best
    /// first. Highlights are computed on demand, for the hits actually shown.
    pub fn search(&self, query: &str) -> SearchResult<'_> {
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
        let mut result = SearchResult {
            index: self,
            hits: Vec::new(),
            matched: HashSet::new(),
        };
        if words.is_empty() {
            return result;
        }
        // dense per-document arrays (the catalogue is small; hashing every posting costs more), and the list of
        // documents still matching every word so far, so each word costs the length of its postings
        let n = self.keys.len();
        let mut score = vec![0f32; n];
        let mut best_here = vec![0f32; n];
        let mut touched: Vec<usize> = Vec::new();
        let mut candidates: Option<Vec<usize>> = None;
        for word in &words {
            let expansions = self.expand(word);
            for (v, quality) in &expansions {
                for p in self.postings.get(*v).map(Vec::as_slice).unwrap_or_default() {
                    let d = p.doc as usize;
                    if best_here[d] == 0.0 {
                        touched.push(d);
                    }
                    best_here[d] = best_here[d].max(p.weight * quality.factor());
                }
                result.matched.insert(*v);
            }
            let survivors: Vec<usize> = match candidates {
                None => touched.clone(),
                Some(previous) => previous
                    .into_iter()
                    .filter(|&d| best_here[d] > 0.0)
                    .collect(),
            };
            for &d in &survivors {
                score[d] += best_here[d];
            }
            for d in touched.drain(..) {
                best_here[d] = 0.0;
            }
            if survivors.is_empty() {
                return result;
            }
            candidates = Some(survivors);
        }
        let folded_query = words.join(" ");
        result.hits = candidates
            .unwrap_or_default()
            .into_iter()
            .map(|d| {
                let name = &self.folded_names[d];
                let mut s = score[d];
                if name.contains(&folded_query) {
                    s += 15.0;
                    if name.starts_with(&folded_query) {
                        s += 5.0;
                    }
                }
                // shorter names are more specific matches
                s -= name.len() as f32 * 0.01;
                Hit { doc: d, score: s }
            })
            .collect();
        result.hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| self.keys[a.doc].cmp(&self.keys[b.doc]))
        });
        result
    }

    /// The key a document was indexed under.
    pub fn key(&self, doc: usize) -> &str {
        &self.keys[doc]
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
        assert_eq!(catalogue().search(&nfd).keys()[0], "1.001193");
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
            let keys = index.search(q).keys().join(",");
            assert_eq!(
                keys, "1.001193,2.000986",
                "{q}: both birth registrations, the plain one first"
            );
        }
    }

    #[test]
    fn prefixes_and_small_typos_still_find_it() {
        let index = catalogue();
        assert_eq!(index.search("khai si").keys()[0], "1.001193");
        assert_eq!(index.search("giay phep xay dung").keys()[0], "1.009974");
        assert_eq!(
            index.search("giay phep xay dugn").keys()[0],
            "1.009974",
            "transposition"
        );
        assert_eq!(
            index.search("ket hno").keys().first().copied(),
            None,
            "three-letter words get no typo tolerance"
        );
        assert_eq!(
            index.search("giấy phép xây dựnh").keys()[0],
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
        let keys = index.search("dang khai").keys().join(",");
        assert_eq!(
            keys, "a",
            "\"dang\" is a word of the catalogue, so \"vắng\" is not a typo of it"
        );
    }

    #[test]
    fn a_field_name_finds_its_procedures_but_below_name_matches() {
        let index = catalogue();
        assert_eq!(index.search("ho tich").hits.len(), 3);
    }

    #[test]
    fn highlights_point_at_the_original_words() {
        let index = catalogue();
        let result = index.search("khai sinh");
        let doc = result.hits[0].doc;
        let marked = highlight_html(
            index.name(doc),
            &result.highlights(doc),
            "<mark>",
            "</mark>",
        );
        assert_eq!(marked, "Đăng ký <mark>khai</mark> <mark>sinh</mark>");
    }

    #[test]
    fn nothing_matches_gives_nothing() {
        let index = catalogue();
        assert!(index.search("zzzz qqqq").hits.is_empty());
        assert!(index.search("   ").hits.is_empty());
        assert!(index.search("\u{0}\u{7}").hits.is_empty());
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
            let _ = index.search(&q).hits.len();
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
