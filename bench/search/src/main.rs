//! motcua's in-memory search against tantivy (what people would pick instead), on the same catalogue file and the
//! same citizens' queries (`crates/search/tests/queries.tsv`): microseconds per query and recall@3, side by side,
//! in one run.
//!
//!   motcua-bench-search CATALOGUE.json QUERIES.tsv [ROUNDS]
//!
//! tantivy is set up the way its documentation suggests for a language with diacritics: the simple tokenizer,
//! lower case and ASCII folding (so "đăng ký" is "dang ky"), BM25 over the name (boosted 2×) and the other texts
//! (code, fields, agencies, cases, components), the query parsed with OR between words. A second tantivy row
//! makes every word a fuzzy term (edit distance 1), its answer to typos.

#[path = "../../../crates/search/tests/support/catalogue_docs.rs"]
mod catalogue_docs;

use std::time::Instant;

use motcua_search::{Document, Index};
use tantivy::{
    TantivyDocument,
    collector::TopDocs,
    query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, QueryParser},
    schema::{Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value},
    tokenizer::{AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer},
};

struct Tantivy {
    index: tantivy::Index,
    reader: tantivy::IndexReader,
    key: Field,
    name: Field,
    texts: Field,
}

fn tantivy_index(docs: &[Document]) -> tantivy::Result<Tantivy> {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer("vi_folded")
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let text = TextOptions::default().set_indexing_options(indexing);
    let mut schema = Schema::builder();
    let key = schema.add_text_field("key", STRING | STORED);
    let name = schema.add_text_field("name", text.clone());
    let texts = schema.add_text_field("texts", text);
    let index = tantivy::Index::create_in_ram(schema.build());
    index.tokenizers().register(
        "vi_folded",
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build(),
    );
    let mut writer = index.writer_with_num_threads(1, 50_000_000)?;
    for d in docs {
        let mut doc = TantivyDocument::default();
        doc.add_text(key, &d.key);
        doc.add_text(name, &d.name);
        for (_, t) in &d.texts {
            doc.add_text(texts, t);
        }
        writer.add_document(doc)?;
    }
    writer.commit()?;
    let reader = index.reader()?;
    Ok(Tantivy { index, reader, key, name, texts })
}

impl Tantivy {
    fn top3(&self, query: &str, fuzzy: bool) -> Vec<String> {
        let searcher = self.reader.searcher();
        let q: Box<dyn Query> = if fuzzy {
            // every folded word, fuzzy in the name (boosted) or the texts
            let mut tokenizer = self.index.tokenizer_for_field(self.name).expect("tokenizer");
            let mut stream = tokenizer.token_stream(query);
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            while let Some(token) = stream.next() {
                for (field, boost) in [(self.name, 2.0), (self.texts, 1.0)] {
                    let term = tantivy::Term::from_field_text(field, &token.text);
                    clauses.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(FuzzyTermQuery::new(term, 1, true)), boost)),
                    ));
                }
            }
            Box::new(BooleanQuery::new(clauses))
        } else {
            let mut parser = QueryParser::for_index(&self.index, vec![self.name, self.texts]);
            parser.set_field_boost(self.name, 2.0);
            // a citizen's words are not query syntax
            let cleaned: String = query
                .chars()
                .map(|c| if c.is_alphanumeric() || c == '.' { c } else { ' ' })
                .collect();
            match parser.parse_query(&cleaned) {
                Ok(q) => q,
                Err(_) => return Vec::new(),
            }
        };
        let Ok(top) = searcher.search(&*q, &TopDocs::with_limit(3).order_by_score()) else {
            return Vec::new();
        };
        top.into_iter()
            .filter_map(|(_, address)| {
                let doc: TantivyDocument = searcher.doc(address).ok()?;
                doc.get_first(self.key).and_then(|v| v.as_str()).map(str::to_string)
            })
            .collect()
    }
}

/// (µs per query, recall@3) of `search` over the queries, `rounds` times.
fn measure(queries: &[(String, String)], rounds: usize, search: impl Fn(&str) -> Vec<String>) -> (f64, f64) {
    let found = queries
        .iter()
        .filter(|(q, expected)| search(q).iter().take(3).any(|k| k == expected))
        .count();
    let start = Instant::now();
    for _ in 0..rounds {
        for (q, _) in queries {
            std::hint::black_box(search(q));
        }
    }
    let per_query = start.elapsed().as_secs_f64() * 1e6 / (rounds * queries.len()) as f64;
    (per_query, found as f64 / queries.len() as f64)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(catalogue), Some(queries)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: motcua-bench-search CATALOGUE.json QUERIES.tsv [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(20);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(catalogue)?)?;
    let docs = catalogue_docs::documents(&json);
    let queries: Vec<(String, String)> = std::fs::read_to_string(queries)?
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once('\t'))
        .map(|(q, e)| (q.to_string(), e.trim().to_string()))
        .collect();

    let start = Instant::now();
    let ours = Index::build(docs.clone());
    let ours_ms = start.elapsed().as_secs_f64() * 1e3;
    let start = Instant::now();
    let theirs = tantivy_index(&docs)?;
    let theirs_ms = start.elapsed().as_secs_f64() * 1e3;

    let (ours_us, ours_recall) = measure(&queries, rounds, |q| {
        ours.search(q).keys().into_iter().take(3).map(str::to_string).collect()
    });
    let (plain_us, plain_recall) = measure(&queries, rounds, |q| theirs.top3(q, false));
    let (fuzzy_us, fuzzy_recall) = measure(&queries, rounds, |q| theirs.top3(q, true));

    println!("{} procedures, {} queries, {rounds} rounds", docs.len(), queries.len());
    println!();
    println!("| Engine | Index build (ms) | µs per query | recall@3 |");
    println!("|---|---:|---:|---:|");
    println!("| motcua-search | {ours_ms:.0} | {ours_us:.1} | {ours_recall:.3} |");
    println!("| tantivy (ASCII folding, BM25) | {theirs_ms:.0} | {plain_us:.1} | {plain_recall:.3} |");
    println!("| tantivy + fuzzy terms (distance 1) | {theirs_ms:.0} | {fuzzy_us:.1} | {fuzzy_recall:.3} |");
    if std::env::var("DETAIL").is_ok() {
        // the slowest queries of ours, and the ones it misses, to know where to look
        let mut timed: Vec<(f64, &str, usize, bool)> = queries
            .iter()
            .map(|(q, expected)| {
                let start = Instant::now();
                for _ in 0..rounds {
                    std::hint::black_box(ours.search(q));
                }
                let us = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
                let result = ours.search(q);
                let found = result.keys().iter().take(3).any(|k| k == expected);
                (us, q.as_str(), result.hits.len(), found)
            })
            .collect();
        timed.sort_by(|a, b| b.0.total_cmp(&a.0));
        println!();
        for (us, q, hits, found) in &timed {
            println!("{us:8.1} µs {hits:6} hits {} {q}", if *found { "   " } else { "MISS" });
        }
    }
    Ok(())
}
