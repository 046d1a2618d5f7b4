//! The house rules a newcomer relies on, held by a test rather than by memory: in every
//! crate of the workspace (the library, the Lambda entry points, the emulator, the runner,
//! local EventBridge and SQS, and the sandbox) no source file is over 600 lines of code (its unit-test module aside) and no function is over 120 lines unless a comment in it or above it starts with
//! `Long:` and says why. Sources are parsed with `syn`, so the figures are the spans of real
//! items, not a guess from braces.

use std::path::{Path, PathBuf};

use syn::spanned::Spanned;
use syn::visit::Visit;

const MAX_FILE_LINES: usize = 600;
const MAX_FN_LINES: usize = 120;

/// The crates the rule holds for: every member of the workspace but the tests crate, read
/// from the workspace's `Cargo.toml`, so that a new crate is held too.
fn roots() -> Vec<String> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let members = manifest
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| list)
        .expect("a members list");
    members
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_owned())
        .filter(|m| !m.is_empty() && m != "tests")
        .map(|m| format!("{m}/src"))
        .collect()
}

#[test]
fn the_rule_holds_for_every_crate() {
    assert_eq!(
        roots(),
        [
            "shared/src",
            "functions/src",
            "local/emulator/src",
            "local/runner/src",
            "local/messaging/src",
            "local/sandbox/src",
        ]
    );
}

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta
                .require_list()
                .is_ok_and(|l| l.tokens.to_string().split_whitespace().any(|t| t == "test"))
    })
}

/// Lines of a span, first to last inclusive.
fn lines(span: proc_macro2::Span) -> (usize, usize) {
    (span.start().line, span.end().line)
}

/// Every function (free, method, trait default) outside `#[cfg(test)]` items.
struct Functions {
    found: Vec<(String, usize, usize)>,
}

impl<'ast> Visit<'ast> for Functions {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_cfg_test(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_cfg_test(&f.attrs) {
            let (a, b) = lines(f.span());
            self.found.push((f.sig.ident.to_string(), a, b));
            syn::visit::visit_item_fn(self, f);
        }
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_cfg_test(&f.attrs) {
            let (a, b) = lines(f.span());
            self.found.push((f.sig.ident.to_string(), a, b));
            syn::visit::visit_impl_item_fn(self, f);
        }
    }
    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if f.default.is_some() {
            let (a, b) = lines(f.span());
            self.found.push((f.sig.ident.to_string(), a, b));
        }
        syn::visit::visit_trait_item_fn(self, f);
    }
}

/// Lines of `text` that belong to `#[cfg(test)]` items at the top of the file.
fn test_lines(file: &syn::File) -> usize {
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Mod(m) if is_cfg_test(&m.attrs) => Some(lines(m.span())),
            syn::Item::Fn(f) if is_cfg_test(&f.attrs) => Some(lines(f.span())),
            _ => None,
        })
        .map(|(a, b)| b - a + 1)
        .sum()
}

/// Whether the function's lines, or the few comment lines right above it, carry `Long:`.
fn says_why(source: &[&str], first: usize, last: usize) -> bool {
    let inside = source[first - 1..last]
        .iter()
        .any(|l| l.trim_start().starts_with("// Long:") || l.trim_start().starts_with("/// Long:"));
    let above = source[..first - 1]
        .iter()
        .rev()
        .take_while(|l| {
            let t = l.trim_start();
            t.starts_with("//") || t.starts_with("#[")
        })
        .any(|l| {
            let t = l.trim_start();
            t.starts_with("// Long:") || t.starts_with("/// Long:")
        });
    inside || above
}

#[test]
fn no_room_and_no_function_is_too_long() {
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for r in roots() {
        rust_files(&root().join(r), &mut files);
    }
    files.sort();
    assert!(files.len() > 40, "only {} source files found", files.len());
    let mut functions = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).expect("a source file");
        let file = syn::parse_file(&text).expect("a parseable source file");
        let shown = path
            .strip_prefix(root())
            .unwrap_or(path)
            .display()
            .to_string();
        let code = text.lines().count() - test_lines(&file);
        if code > MAX_FILE_LINES {
            problems.push(format!(
                "{shown}: {code} lines of code (most {MAX_FILE_LINES})"
            ));
        }
        let mut visitor = Functions { found: Vec::new() };
        visitor.visit_file(&file);
        let source: Vec<&str> = text.lines().collect();
        for (name, first, last) in visitor.found {
            functions += 1;
            let n = last - first + 1;
            if n > MAX_FN_LINES && !says_why(&source, first, last) {
                problems.push(format!(
                    "{shown}:{first}: fn {name} is {n} lines (most {MAX_FN_LINES}, or a `// Long:` comment saying why)"
                ));
            }
        }
    }
    assert!(functions > 300, "only {functions} functions found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
