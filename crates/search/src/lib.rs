//! Catalogue search for Vietnamese text, in memory.
//!
//! Citizens type without diacritics, in capitals, decomposed (NFD) or with small typos; the catalogue is
//! written with full diacritics. Everything is folded the same way ([`fold`]: NFD, combining marks dropped,
//! `đ` → `d`, lower case) before it is compared, so old and new tone placement (hoà/hòa, thuỷ/thủy) are one word;
//! a syllable's final `y` after a consonant is `i` (kí/ký, lí/lý, quí/quý, mĩ/mỹ). Ranking weighs where a word
//! matched (name first), how it matched (exact, prefix, one typo) and whether the whole query stands in the name as
//! a phrase. When no document has every word, the documents with the most words, rarer words weighing more, are
//! returned as partial matches, and the words that match nothing are named.
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

/// Consonant onsets after which a syllable's final `y` is written `i` just as well (ký/kí, lý/lí, quý/quí, mỹ/mĩ).
const Y_AS_I_ONSETS: [&str; 20] = [
    "b", "c", "d", "g", "h", "k", "l", "m", "n", "p", "q", "r", "s", "t", "v", "x", "kh", "ph",
    "th", "qu",
];

/// One spelling for the two ways of writing a final `i`/`y` after a consonant: `ky` → `ki`, `quy` → `qui`. Not
/// for `y` alone (y tế) nor after a vowel (tuy, huy, này).
fn same_i_y(word: &mut String) {
    if let Some(onset) = word.strip_suffix('y')
        && Y_AS_I_ONSETS.contains(&onset)
    {
        word.pop();
        word.push('i');
    }
}

/// Words that hold a citizen's sentence together ("làm giấy khai sinh cho con ở phường") without saying which
/// procedure is meant: in partial matches they do not count (folded).
const FILLERS: [&str; 26] = [
    "o", "cho", "cua", "va", "la", "lam", "toi", "muon", "can", "the", "nao", "voi", "bi", "duoc",
    "nhu", "thi", "con", "em", "anh", "chi", "minh", "ve", "tai", "thu", "xin", "de",
];

fn is_filler(word: &str) -> bool {
    FILLERS.contains(&word)
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
        } else if let Some(mut token) = current.take() {
            same_i_y(&mut token.folded);
            tokens.push(token);
        }
    }
    if let Some(mut token) = current {
        same_i_y(&mut token.folded);
        tokens.push(token);
    }
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
    /// No document has every word: the hits have the most words that matched.
    pub partial: bool,
    /// The query's words (as typed) that match nothing in the catalogue.
    pub unmatched: Vec<String>,
    /// "Có phải bạn muốn tìm …": the query with the words found nowhere replaced by the catalogue's closest
    /// words, when every such word has one.
    pub suggestion: Option<String>,
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
    /// the length in characters of each vocabulary word (a typo scan skips most words on it alone)
    vocabulary_chars: Vec<u8>,
    synonyms: Synonyms,
    /// folded word → how the catalogue's names write it (with diacritics), for suggestions
    surface: HashMap<String, String>,
}

/// Per-document sums of the partial-match pass, reused by the searches of one thread.
#[derive(Default)]
struct Scratch {
    rare_score: Vec<f32>,
    count: Vec<u16>,
    filler_count: Vec<u16>,
    best_here: Vec<f32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Query words already expanded in this search: (folded word, whether it may be the start of a longer word,
/// vocabulary words it matches).
type Expanded<'a> = Vec<(String, bool, Vec<(&'a str, Quality)>)>;

/// Added when a name holds the whole query as a phrase.
const PHRASE_BONUS: f32 = 15.0;

/// At most this many partial matches are listed.
const PARTIAL_HITS: usize = 200;

/// When the words as typed find this many procedures having them all, the everyday-name readings are skipped.
const ENOUGH_WITHOUT_SYNONYMS: usize = 10;

/// The built-in table of everyday names and abbreviations (`synonyms.txt`).
pub const SYNONYMS: &str = include_str!("synonyms.txt");

/// Everyday names and abbreviations for what the catalogue names formally: rules from a phrase to another, applied
/// to a query as alternatives to the words typed.
#[derive(Debug, Default, Clone)]
pub struct Synonyms {
    rules: Vec<(Vec<String>, Vec<String>)>,
}

impl Synonyms {
    /// Read a table edited by hand: like [`Synonyms::parse`], but every line that is not a rule or a note is
    /// reported with its number (from 1) and what is wrong, in Vietnamese.
    pub fn check(text: &str) -> Result<Synonyms, Vec<(usize, String)>> {
        let mut problems = Vec::new();
        let phrase_ok = |phrase: &str| !tokenize(&phrase.nfc().collect::<String>()).is_empty();
        for (i, line) in text.lines().map(str::trim).enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let problem = if line.chars().count() > 300 {
                Some("dòng dài quá 300 ký tự".to_string())
            } else if let Some((from, to)) = line.split_once("->") {
                if to.contains("->") || from.contains('|') || to.contains('|') {
                    Some("mỗi dòng chỉ một quy tắc: \"a -> b\" hoặc \"a | b | c\"".to_string())
                } else if !phrase_ok(from) || !phrase_ok(to) {
                    Some("cần cụm từ ở cả hai bên dấu ->".to_string())
                } else {
                    None
                }
            } else {
                let phrases: Vec<&str> = line.split('|').collect();
                if phrases.len() < 2 {
                    Some(
                        "cần ít nhất hai cách gọi, cách nhau bằng dấu | (hoặc \"a -> b\")"
                            .to_string(),
                    )
                } else if !phrases.iter().all(|p| phrase_ok(p)) {
                    Some("có cách gọi để trống giữa hai dấu |".to_string())
                } else {
                    None
                }
            };
            if let Some(problem) = problem {
                problems.push((i + 1, problem));
            }
        }
        if problems.is_empty() {
            Ok(Synonyms::parse(text))
        } else {
            Err(problems)
        }
    }

    /// Read a table: a line `a | b | c` makes its phrases equivalent, `a -> b` reads a as b; `#` starts a note.
    pub fn parse(text: &str) -> Synonyms {
        let words = |phrase: &str| -> Vec<String> {
            tokenize(&phrase.nfc().collect::<String>())
                .into_iter()
                .map(|t| t.folded)
                .collect()
        };
        let mut rules = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some((from, to)) = line.split_once("->") {
                let (from, to) = (words(from), words(to));
                if !from.is_empty() && !to.is_empty() {
                    rules.push((from, to));
                }
            } else {
                let group: Vec<Vec<String>> = line
                    .split('|')
                    .map(words)
                    .filter(|w| !w.is_empty())
                    .collect();
                for (i, from) in group.iter().enumerate() {
                    for (j, to) in group.iter().enumerate() {
                        if i != j {
                            rules.push((from.clone(), to.clone()));
                        }
                    }
                }
            }
        }
        Synonyms { rules }
    }

    /// The query with one phrase replaced by what it stands for, for each rule that applies, then with a second
    /// one replaced too (two everyday names in one query); at most 8 readings.
    fn variants(&self, words: &[&str]) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        self.substitute(words, &mut out);
        let first = out.len();
        for i in 0..first {
            let again: Vec<String> = out[i].clone();
            let again: Vec<&str> = again.iter().map(String::as_str).collect();
            self.substitute(&again, &mut out);
        }
        out.retain(|v| v.iter().map(String::as_str).ne(words.iter().copied()));
        out.truncate(8);
        out
    }

    /// Add to `out` the readings of `words` with one rule applied (each new reading once, 16 at most).
    fn substitute(&self, words: &[&str], out: &mut Vec<Vec<String>>) {
        for (from, to) in &self.rules {
            if out.len() >= 16 {
                return;
            }
            if from.len() > words.len() {
                continue;
            }
            let Some(at) = (0..=words.len() - from.len()).find(|&i| {
                words[i..i + from.len()]
                    .iter()
                    .zip(from)
                    .all(|(w, f)| *w == f)
            }) else {
                continue;
            };
            let mut variant: Vec<String> = words[..at].iter().map(|w| w.to_string()).collect();
            variant.extend(to.iter().cloned());
            variant.extend(words[at + from.len()..].iter().map(|w| w.to_string()));
            if !out.contains(&variant) {
                out.push(variant);
            }
        }
    }
}

impl Index {
    pub fn build(documents: impl IntoIterator<Item = Document>) -> Index {
        let mut index = Index::default();
        for document in documents {
            let doc = index.keys.len() as u32;
            let mut best: HashMap<String, f32> = HashMap::new();
            let name_tokens = tokenize(&document.name);
            for token in &name_tokens {
                index
                    .surface
                    .entry(token.folded.clone())
                    .or_insert_with(|| document.name[token.span.clone()].to_lowercase());
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
            index.folded_names.push(
                name_tokens
                    .iter()
                    .map(|t| t.folded.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            index.name_tokens.push(name_tokens);
            index.keys.push(document.key);
            index.names.push(document.name);
        }
        index.vocabulary = index.postings.keys().cloned().collect();
        index.vocabulary.sort_unstable();
        index.vocabulary_chars = index
            .vocabulary
            .iter()
            .map(|v| u8::try_from(v.chars().count()).unwrap_or(u8::MAX))
            .collect();
        index.synonyms = Synonyms::parse(SYNONYMS);
        index
    }

    /// The same index with another table of everyday names.
    pub fn with_synonyms(mut self, synonyms: Synonyms) -> Index {
        self.synonyms = synonyms;
        self
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Vocabulary words that a query word matches, with how. `last`: the last word of a query still being typed,
    /// maybe the start of a longer one; any other word the catalogue has as it is means just that word (a whole
    /// syllable: "ho" is "hộ", not "hoạt" or "hợp"; "tru" is "trú", not "trung" or "trường").
    fn expand(&self, word: &str, last: bool) -> Vec<(&str, Quality)> {
        let mut out = Vec::new();
        if let Some((known, _)) = self.postings.get_key_value(word) {
            out.push((known.as_str(), Quality::Exact));
            if !last {
                return out;
            }
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
            for (v, &vlen) in self.vocabulary.iter().zip(&self.vocabulary_chars) {
                if usize::from(vlen).abs_diff(len) > max_edits || v == word || v.starts_with(word) {
                    continue;
                }
                if within_edits(word, v, max_edits) {
                    out.push((v.as_str(), Quality::Typo));
                }
            }
        }
        out
    }

    /// Search. Documents with every query word (exactly, as a prefix, or with a small typo) come first, ranked;
    /// an everyday name of the table stands for what it names; when no document has every word, the closest are
    /// returned as partial matches. Highlights are computed on demand, for the hits actually shown.
    pub fn search(&self, query: &str) -> SearchResult<'_> {
        self.search_with(query, false)
    }

    /// [`Index::search`] for a query still being typed (autocomplete): its last word may be the start of a longer
    /// one even when the catalogue has it as a word ("khai si" is "khai sinh").
    pub fn search_as_typed(&self, query: &str) -> SearchResult<'_> {
        self.search_with(query, true)
    }

    fn search_with(&self, query: &str, typing: bool) -> SearchResult<'_> {
        // NFC first: a decomposed "ă" is two characters, and the mark alone is not a letter
        let query: String = query
            .nfc()
            .filter(|c| !c.is_control())
            .take(MAX_QUERY_CHARS)
            .collect();
        let tokens: Vec<Token> = tokenize(&query).into_iter().take(MAX_QUERY_WORDS).collect();
        let words: Vec<&str> = tokens.iter().map(|t| t.folded.as_str()).collect();
        let mut result = SearchResult {
            index: self,
            hits: Vec::new(),
            matched: HashSet::new(),
            partial: false,
            unmatched: Vec::new(),
            suggestion: None,
        };
        if words.is_empty() {
            return result;
        }
        // the readings of a query share most of their words: each word is expanded once
        let mut expanded: Expanded<'_> = Vec::new();
        let mut unmatched = self.rank(&words, &mut result, &mut expanded, typing, true);
        // the formal words found plenty, the best with the whole query in its name: the everyday-name readings are
        // not needed (and cost a search each)
        let phrase_in_a_name = result.hits.iter().any(|h| h.score >= PHRASE_BONUS);
        if !result.partial && result.hits.len() >= ENOUGH_WITHOUT_SYNONYMS && phrase_in_a_name {
            return self.finish(result, &query, &tokens, unmatched);
        }
        // the everyday names: a reading that finds every word replaces partial matches and adds to complete ones;
        // while no reading finds every word, the partial matches of all readings are pooled (each document at its
        // best), and the words left unmatched are those of the reading with the best match
        let mut best_partial = result.hits.iter().map(|h| h.score).fold(f32::MIN, f32::max);
        let mut position: Vec<u32> = Vec::new();
        for variant in self.synonyms.variants(&words) {
            let variant: Vec<&str> = variant.iter().map(String::as_str).collect();
            let mut alt = SearchResult {
                index: self,
                hits: Vec::new(),
                matched: HashSet::new(),
                partial: false,
                unmatched: Vec::new(),
                suggestion: None,
            };
            // once some reading has every word, a reading with only some is of no use: skip its partial pass
            let need_partial = result.partial || result.hits.is_empty();
            let alt_unmatched = self.rank(&variant, &mut alt, &mut expanded, false, need_partial);
            if alt.hits.is_empty() || (alt.partial && !(result.partial || result.hits.is_empty())) {
                continue;
            }
            if !alt.partial && (result.partial || result.hits.is_empty()) {
                result.hits.clear();
                result.partial = false;
                unmatched.clear();
            }
            if alt.partial {
                let top = alt.hits.iter().map(|h| h.score).fold(f32::MIN, f32::max);
                if top > best_partial {
                    best_partial = top;
                    // a word the reading replaced was understood; the reading's own misses are the query's
                    unmatched = alt_unmatched
                        .iter()
                        .filter_map(|&i| words.iter().position(|w| *w == variant[i]))
                        .collect();
                }
                result.partial = true;
            }
            // each document once, at its best reading (a position table: readings can list thousands)
            if position.len() != self.keys.len() {
                position = vec![u32::MAX; self.keys.len()];
            }
            for (i, h) in result.hits.iter().enumerate() {
                position[h.doc] = i as u32;
            }
            for hit in alt.hits {
                match position[hit.doc] {
                    u32::MAX => {
                        position[hit.doc] = result.hits.len() as u32;
                        result.hits.push(hit);
                    }
                    i => {
                        let h = &mut result.hits[i as usize];
                        h.score = h.score.max(hit.score);
                    }
                }
            }
            for h in &result.hits {
                position[h.doc] = u32::MAX;
            }
            result.matched.extend(alt.matched);
        }
        self.finish(result, &query, &tokens, unmatched)
    }

    /// Order the hits, name the words found nowhere and suggest what they may have meant.
    fn finish<'a>(
        &'a self,
        mut result: SearchResult<'a>,
        query: &str,
        tokens: &[Token],
        unmatched: Vec<usize>,
    ) -> SearchResult<'a> {
        // equal scores keep the order the documents were given in (the portal gives them in code order): the order
        // is total, so an unstable sort gives the same every time
        result
            .hits
            .sort_unstable_by(|a, b| b.score.total_cmp(&a.score).then(a.doc.cmp(&b.doc)));
        if !unmatched.is_empty() {
            result.suggestion = self.suggest(query, tokens, &unmatched);
        }
        result.unmatched = unmatched
            .into_iter()
            .map(|i| query[tokens[i].span.clone()].to_string())
            .collect();
        result
    }

    /// The query with each word found nowhere replaced by the closest name word of the catalogue (one edit, or two
    /// for longer words; the most used wins), when every such word has one.
    fn suggest(&self, query: &str, tokens: &[Token], unmatched: &[usize]) -> Option<String> {
        let mut out = String::new();
        let mut last = 0;
        for &i in unmatched {
            let word = tokens[i].folded.as_str();
            let len = word.chars().count();
            if len < 3 {
                return None;
            }
            let closest = (1..=if len >= 6 { 2 } else { 1 }).find_map(|edits| {
                self.surface
                    .keys()
                    .filter(|v| {
                        v.chars().count().abs_diff(len) <= edits && within_edits(word, v, edits)
                    })
                    .max_by_key(|v| {
                        (
                            self.postings.get(*v).map_or(0, Vec::len),
                            std::cmp::Reverse(*v),
                        )
                    })
            })?;
            out.push_str(&query[last..tokens[i].span.start]);
            out.push_str(&self.surface[closest]);
            last = tokens[i].span.end;
        }
        out.push_str(&query[last..]);
        Some(out)
    }

    /// Rank the documents for these folded words into `result`; the positions of the words that match nothing.
    /// Without `need_partial`, only documents having every word are looked for.
    fn rank<'a>(
        &'a self,
        words: &[&str],
        result: &mut SearchResult<'a>,
        expanded: &mut Expanded<'a>,
        typing: bool,
        need_partial: bool,
    ) -> Vec<usize> {
        // each word's vocabulary matches, expanded once per search
        let mut slots = Vec::with_capacity(words.len());
        for (position, word) in words.iter().enumerate() {
            let last = typing && position + 1 == words.len();
            let at = match expanded
                .iter()
                .position(|(w, l, _)| w.as_str() == *word && *l == last)
            {
                Some(at) => at,
                None => {
                    expanded.push((word.to_string(), last, self.expand(word, last)));
                    expanded.len() - 1
                }
            };
            slots.push(at);
        }
        let lists: Vec<Vec<(&[Posting], f32)>> = slots
            .iter()
            .map(|&at| {
                expanded[at]
                    .2
                    .iter()
                    .map(|(v, quality)| {
                        (
                            self.postings.get(*v).map(Vec::as_slice).unwrap_or_default(),
                            quality.factor(),
                        )
                    })
                    .collect()
            })
            .collect();
        for &at in &slots {
            result
                .matched
                .extend(expanded[at].2.iter().map(|(v, _)| *v));
        }
        let meaningful = words.iter().filter(|w| !is_filler(w)).count() as u16;
        let needed = |i: usize| meaningful == 0 || !is_filler(words[i]);
        let folded_query = words.join(" ");
        // the usual case, documents having every word: start from the rarest word and look the others up in the
        // candidates only, instead of adding up every posting of the common words
        if let Some(complete) = conjunction(&lists, &needed) {
            result.hits = complete
                .into_iter()
                .map(|(d, s)| self.complete_hit(d as usize, s, &folded_query))
                .collect();
            return Vec::new();
        }
        if !need_partial {
            return Vec::new();
        }
        let mut unmatched = Vec::new();
        let n = self.keys.len();
        SCRATCH.with_borrow_mut(|scratch| {
            let Scratch {
                rare_score,
                count,
                filler_count,
                best_here,
            } = scratch;
            // dense per-document arrays, kept between searches on this thread and cleared where they were used
            // (the catalogue is small; hashing every posting costs more)
            for v in [&mut *rare_score, &mut *best_here] {
                v.resize(n, 0.0);
            }
            count.resize(n, 0);
            filler_count.resize(n, 0);
            let mut touched: Vec<usize> = Vec::new();
            let mut any: Vec<usize> = Vec::new();
            for (position, word) in words.iter().enumerate() {
                for (postings, factor) in &lists[position] {
                    for p in *postings {
                        let d = p.doc as usize;
                        if best_here[d] == 0.0 {
                            touched.push(d);
                        }
                        best_here[d] = best_here[d].max(p.weight * factor);
                    }
                }
                if touched.is_empty() {
                    // a filler found nowhere is not worth striking through
                    if !is_filler(word) {
                        unmatched.push(position);
                    }
                    continue;
                }
                // inverse document frequency: a word in few procedures says more about which one is meant
                let rarity = (1.0 + n as f32 / touched.len() as f32).ln();
                let filler = u16::from(is_filler(word));
                for d in touched.drain(..) {
                    if count[d] == 0 {
                        any.push(d);
                    }
                    count[d] += 1;
                    filler_count[d] += filler;
                    rare_score[d] += best_here[d] * rarity;
                    best_here[d] = 0.0;
                }
            }
            result.hits = self.partial_hits(words, &any, rare_score, count, filler_count);
            result.partial = !any.is_empty();
            for d in any {
                rare_score[d] = 0.0;
                count[d] = 0;
                filler_count[d] = 0;
            }
        });
        unmatched
    }

    /// No document has every word that says something: never an empty page while a word matches. The most words
    /// first (words that only hold a sentence together count for nothing), rarer words weighing more, two words
    /// side by side as in the name more.
    fn partial_hits(
        &self,
        words: &[&str],
        any: &[usize],
        rare_score: &[f32],
        count: &[u16],
        filler_count: &[u16],
    ) -> Vec<Hit> {
        let pairs: Vec<String> = words
            .windows(2)
            .filter(|w| !is_filler(w[0]) || !is_filler(w[1]))
            .map(|w| format!("{} {}", w[0], w[1]))
            .collect();
        // only the closest are worth listing: those with at most one word fewer than the best, and at most
        // PARTIAL_HITS of them (a common word alone would otherwise list, and sort, most of the catalogue)
        let best = any
            .iter()
            .map(|&d| count[d] - filler_count[d])
            .max()
            .unwrap_or(0);
        let mut close: Vec<usize> = any
            .iter()
            .copied()
            .filter(|&d| count[d] - filler_count[d] + 1 >= best)
            .collect();
        if close.len() > PARTIAL_HITS {
            close.select_nth_unstable_by(PARTIAL_HITS, |&a, &b| {
                (count[b] - filler_count[b], rare_score[b])
                    .partial_cmp(&(count[a] - filler_count[a], rare_score[a]))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            close.truncate(PARTIAL_HITS);
        }
        close
            .into_iter()
            .map(|d| {
                let name = &self.folded_names[d];
                let side_by_side = pairs.iter().filter(|p| name.contains(p.as_str())).count();
                let counted = count[d] - filler_count[d];
                Hit {
                    doc: d,
                    score: f32::from(counted) * 100.0 + side_by_side as f32 * 50.0 + rare_score[d]
                        - name.len() as f32 * 0.01,
                }
            })
            .collect()
    }

    /// A document having every word: its word weights, more for the whole query as a phrase in its name (most at
    /// the start), a little less for a longer name (shorter names are more specific matches).
    fn complete_hit(&self, d: usize, score: f32, folded_query: &str) -> Hit {
        let name = &self.folded_names[d];
        let mut s = score;
        if name.contains(folded_query) {
            s += PHRASE_BONUS;
            if name.starts_with(folded_query) {
                s += 5.0;
            }
        }
        s -= name.len() as f32 * 0.01;
        Hit { doc: d, score: s }
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
/// The documents having every needed word (`lists[i]`: word i's postings with the factor of how it matched), each
/// with the sum over the words it has of its best weight; `None` when there is none. Starts from the word with
/// the fewest postings and looks each other word up in the remaining candidates only (postings are in document
/// order), so a common word costs a lookup per candidate, not a pass over its postings.
fn conjunction(
    lists: &[Vec<(&[Posting], f32)>],
    needed: &dyn Fn(usize) -> bool,
) -> Option<Vec<(u32, f32)>> {
    let size = |i: usize| lists[i].iter().map(|(p, _)| p.len()).sum::<usize>();
    let mut order: Vec<usize> = (0..lists.len()).filter(|&i| needed(i)).collect();
    order.sort_by_key(|&i| size(i));
    let (&rarest, rest) = order.split_first()?;
    let mut candidates: Vec<(u32, f32)> = lists[rarest]
        .iter()
        .flat_map(|(postings, factor)| postings.iter().map(move |p| (p.doc, p.weight * factor)))
        .collect();
    candidates.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
    candidates.dedup_by_key(|c| c.0);
    // the needed words narrow the candidates; the others (fillers) only add their weight where present
    let others = (0..lists.len()).filter(|&i| !needed(i));
    for (i, required) in rest
        .iter()
        .map(|&i| (i, true))
        .chain(others.map(|i| (i, false)))
    {
        let mut best = vec![0f32; candidates.len()];
        for (postings, factor) in &lists[i] {
            let mut remaining: &[Posting] = postings;
            for (k, (doc, _)) in candidates.iter().enumerate() {
                let skip = remaining.partition_point(|p| p.doc < *doc);
                remaining = &remaining[skip..];
                match remaining.first() {
                    Some(p) if p.doc == *doc => best[k] = best[k].max(p.weight * factor),
                    Some(_) => {}
                    None => break,
                }
            }
        }
        let mut k = 0;
        candidates.retain_mut(|(_, score)| {
            let w = best[k];
            k += 1;
            *score += w;
            w > 0.0 || !required
        });
        if candidates.is_empty() {
            return None;
        }
    }
    (!candidates.is_empty()).then_some(candidates)
}

fn within_edits(a: &str, b: &str, max: usize) -> bool {
    // folded words are ASCII, and short: compare bytes in rows on the stack (this runs once per vocabulary word
    // of about the same length for every unknown query word)
    const SHORT: usize = 32;
    if a.is_ascii() && b.is_ascii() && b.len() < SHORT {
        return edits_within(a.as_bytes(), b.as_bytes(), max, &mut [[0u8; SHORT + 1]; 3]);
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut rows = vec![vec![0u8; width]; 3];
    let [prev2, prev, cur] = rows.as_mut_slice() else {
        return false;
    };
    edits_rows(&a, &b, max, prev2, prev, cur)
}

fn edits_within(a: &[u8], b: &[u8], max: usize, rows: &mut [[u8; 33]; 3]) -> bool {
    let [prev2, prev, cur] = rows;
    edits_rows(a, b, max, prev2, prev, cur)
}

/// Damerau–Levenshtein (optimal string alignment) distance of `a` and `b` is at most `max`, with early exit when a
/// whole row exceeds it. Rows are at least `b.len() + 1` long; distances saturate at 255.
fn edits_rows<'r, T: PartialEq>(
    a: &[T],
    b: &[T],
    max: usize,
    mut prev2: &'r mut [u8],
    mut prev: &'r mut [u8],
    mut cur: &'r mut [u8],
) -> bool {
    let (n, m) = (a.len(), b.len());
    for (j, cell) in prev.iter_mut().enumerate().take(m + 1) {
        *cell = u8::try_from(j).unwrap_or(u8::MAX);
    }
    for i in 1..=n {
        cur[0] = u8::try_from(i).unwrap_or(u8::MAX);
        let mut row_min = cur[0];
        for j in 1..=m {
            let cost = u8::from(a[i - 1] != b[j - 1]);
            let mut v = prev[j]
                .saturating_add(1)
                .min(cur[j - 1].saturating_add(1))
                .min(prev[j - 1].saturating_add(cost));
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2].saturating_add(1));
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if usize::from(row_min) > max {
            return false;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    usize::from(prev[m]) <= max
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

    #[test]
    fn a_table_edited_by_hand_is_checked_line_by_line() {
        assert!(
            Synonyms::check(SYNONYMS).is_ok(),
            "the built-in table is valid"
        );
        let text = "# ghi chú\ncccd | căn cước\nsổ đỏ ->\nchỉ một cách gọi\na | | b\nx -> y -> z\n\nbằng lái -> giấy phép lái xe";
        let problems: Vec<usize> = Synonyms::check(text)
            .unwrap_err()
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(problems, vec![3, 4, 5, 6]);
        let docs = || {
            vec![Document {
                key: "1".into(),
                name: "Cấp đổi giấy phép lái xe".into(),
                texts: vec![],
            }]
        };
        let without = Index::build(docs()).with_synonyms(Synonyms::default());
        assert!(without.search("glx").hits.is_empty());
        let with =
            Index::build(docs()).with_synonyms(Synonyms::check("glx -> giấy phép lái xe").unwrap());
        assert_eq!(with.search("glx").hits.len(), 1);
    }
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
        // a final y after a consonant is spelled i
        assert_eq!(words, ["dang", "ki", "khai", "sinh"]);
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
        let partial = index.search("ket hno");
        assert_eq!(
            partial.unmatched,
            vec!["hno"],
            "three-letter words get no typo tolerance"
        );
        assert!(partial.partial);
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
    fn i_and_y_after_a_consonant_and_both_tone_placements_are_the_same() {
        let index = Index::build([
            Document {
                key: "1".into(),
                name: "Đăng ký khai sinh".into(),
                texts: vec![],
            },
            Document {
                key: "2".into(),
                name: "Cấp phiếu lý lịch tư pháp".into(),
                texts: vec![],
            },
            Document {
                key: "3".into(),
                name: "Cấp phép khai thác nước thuỷ lợi".into(),
                texts: vec![],
            },
            Document {
                key: "4".into(),
                name: "Hỗ trợ hộ nghèo hoà nhập".into(),
                texts: vec![],
            },
        ]);
        assert_eq!(index.search("đăng kí khai sinh").keys()[0], "1");
        assert_eq!(index.search("phieu li lich").keys()[0], "2");
        assert_eq!(index.search("thủy lợi").keys()[0], "3");
        assert_eq!(index.search("hòa nhập").keys()[0], "4");
        // not after a vowel, and not alone
        let mut w = "tuy".to_string();
        same_i_y(&mut w);
        assert_eq!(w, "tuy");
        let mut w = "y".to_string();
        same_i_y(&mut w);
        assert_eq!(w, "y");
        let mut w = "quy".to_string();
        same_i_y(&mut w);
        assert_eq!(w, "qui");
    }

    #[test]
    fn words_not_all_found_still_give_the_best_partial_matches_and_name_the_others() {
        let index = catalogue();
        let all = index.search("khai sinh");
        assert!(!all.partial && all.unmatched.is_empty());
        let some = index.search("làm giấy khai sinh cho con ở phường zzqx");
        assert!(some.partial);
        assert_eq!(some.keys()[0], "1.001193", "{:?}", some.keys());
        assert!(
            some.unmatched.contains(&"zzqx".to_string()),
            "{:?}",
            some.unmatched
        );
        let none = index.search("zzzz qqqq");
        assert!(none.hits.is_empty() && !none.partial);
        assert_eq!(none.unmatched, vec!["zzzz", "qqqq"]);
    }

    #[test]
    fn a_word_found_nowhere_gets_the_closest_catalogue_word_as_a_suggestion() {
        let index = catalogue();
        // too short for typo tolerance, and too far for it
        let r = index.search("ket hno");
        assert_eq!(r.suggestion.as_deref(), Some("ket hôn"));
        assert_eq!(
            index.search("giay phep xay dungxx").suggestion.as_deref(),
            Some("giay phep xay dựng")
        );
        assert_eq!(index.search("khai sinh").suggestion, None);
        assert_eq!(index.search("qqqqqqq").suggestion, None);
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
            // the byte rows on the stack and the character rows on the heap give the same answers
            let (wide_a, wide_b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            for max in 0..3 {
                let mut rows = vec![vec![0u8; wide_b.len() + 1]; 3];
                let [p2, p, c] = rows.as_mut_slice() else { unreachable!() };
                prop_assert_eq!(within_edits(&a, &b, max), edits_rows(&wide_a, &wide_b, max, p2, p, c));
            }
            // one substitution, one deletion, one swap of neighbours: one edit each
            if a.len() >= 2 {
                let mut swapped: Vec<char> = wide_a.clone();
                swapped.swap(0, 1);
                let swapped: String = swapped.into_iter().collect();
                prop_assert!(within_edits(&a, &swapped, 1));
                prop_assert!(within_edits(&a, &a[1..], 1));
            }
        }
    }
}
