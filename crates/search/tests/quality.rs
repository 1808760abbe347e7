//! Search quality, measured: realistic citizen queries (`queries.tsv`: with and without diacritics, typos, everyday
//! names, extra words) against the demo catalogue, each with the procedure it should find. Reports recall@3 and MRR
//! and fails below 0.95 recall@3.

#[path = "support/catalogue_docs.rs"]
mod catalogue_docs;

use motcua_search::Index;

/// The demo catalogue indexed the way the portal indexes it.
fn demo_index() -> Index {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../motcua/src/demo/catalogue.json"
    );
    let text = std::fs::read_to_string(path).expect("the demo catalogue");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    Index::build(catalogue_docs::documents(&json))
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
