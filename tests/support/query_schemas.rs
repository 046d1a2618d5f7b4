//! The query function's published schemas (`events/schemas/query/`), as the query tests
//! check requests and answers against them.

use std::path::PathBuf;

use serde_json::Value;

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A JSON file, or a panic naming it.
pub fn read_json(p: PathBuf) -> Value {
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The branch of the `oneOf` schema `events/schemas/query/<file>` titled `title`, as a
/// validator.
pub fn branch(file: &str, title: &str) -> jsonschema::Validator {
    let s = read_json(root().join(format!("events/schemas/query/{file}")));
    let b = s["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["title"] == title)
        .unwrap_or_else(|| panic!("{file}: no branch {title}"))
        .clone();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&b)
        .unwrap()
}
