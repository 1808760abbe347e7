//! Search quality, measured: realistic citizen queries (`queries.tsv`: with and without diacritics, typos, everyday
//! names, extra words) against the demo catalogue, each with the procedure it should find. Reports recall@3 and MRR
//! and fails below 0.95 recall@3.

use motcua_search::{Document, Index, Section};

/// The demo catalogue indexed the way the portal indexes it (name, code, fields, agencies, cases, components).
fn demo_index() -> Index {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../motcua/src/demo/catalogue.json"
    );
    let text = std::fs::read_to_string(path).expect("the demo catalogue");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let names = |key: &str| -> std::collections::HashMap<String, String> {
        json[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| {
                (
                    v["code"].as_str().unwrap_or("").to_string(),
                    v["name"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let (fields, agencies) = (names("fields"), names("agencies"));
    let text_of = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
    let docs = json["procedures"]
        .as_array()
        .expect("procedures")
        .iter()
        .map(|p| {
            let mut texts = vec![(Section::Code, text_of(&p["code"]))];
            for f in p["fields"].as_array().into_iter().flatten() {
                texts.push((
                    Section::Field,
                    fields.get(&text_of(f)).cloned().unwrap_or_default(),
                ));
            }
            for a in p["agencies"].as_array().into_iter().flatten() {
                texts.push((
                    Section::Agency,
                    agencies.get(&text_of(a)).cloned().unwrap_or_default(),
                ));
            }
            for c in p["cases"].as_array().into_iter().flatten() {
                texts.push((Section::Component, text_of(&c["name"])));
                for comp in c["components"].as_array().into_iter().flatten() {
                    texts.push((Section::Component, text_of(&comp["name"])));
                }
            }
            Document {
                key: text_of(&p["code"]),
                name: text_of(&p["name"]),
                texts,
            }
        });
    Index::build(docs)
}

#[test]
fn citizens_queries_find_their_procedure_in_the_first_three() {
    let index = demo_index();
    let queries = include_str!("queries.tsv");
    let mut asked = 0usize;
    let mut in_three = 0usize;
    let mut reciprocal = 0f64;
    let mut misses = Vec::new();
    for line in queries
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (query, expected) = line.split_once('\t').expect("query<TAB>code");
        let keys = index
            .search(query)
            .keys()
            .into_iter()
            .map(str::to_string)
            .collect::<Vec<_>>();
        asked += 1;
        match keys.iter().position(|k| k == expected.trim()) {
            Some(rank) => {
                reciprocal += 1.0 / (rank as f64 + 1.0);
                if rank < 3 {
                    in_three += 1;
                } else {
                    misses.push(format!("{query} → {expected} at {}", rank + 1));
                }
            }
            None => misses.push(format!(
                "{query} → {expected} not found (got {:?})",
                &keys[..keys.len().min(3)]
            )),
        }
    }
    let recall = in_three as f64 / asked as f64;
    let mrr = reciprocal / asked as f64;
    println!("search quality over {asked} queries: recall@3 = {recall:.3}, MRR = {mrr:.3}");
    for m in &misses {
        println!("  miss: {m}");
    }
    assert!(asked >= 60, "at least 60 queries, {asked} given");
    assert!(
        recall >= 0.95,
        "recall@3 {recall:.3} below 0.95; misses: {misses:#?}"
    );
}
