//! A catalogue file (motcua's import format) as search documents, the way the portal indexes a procedure: name,
//! code, fields, agencies, cases and components. Shared by the quality test and `bench/search`.

use motcua_search::{Document, Section};

pub fn documents(json: &serde_json::Value) -> Vec<Document> {
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
    json["procedures"]
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
        })
        .collect()
}
