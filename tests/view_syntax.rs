//! A check over the sources (issue #22): in `view!`, an attribute whose value is
//! an unbraced closure ends at the first `>`, so `disabled=move || a >= b` closes
//! the tag early and the rest of it becomes text, silently. Such values must be
//! braced: `disabled=move || { a >= b }`.
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;

/// Comparisons and arrows an unbraced attribute value must not hold.
const TOKENS: [&str; 5] = [">=", "<=", " > ", " < ", "->"];

/// `(line, text)` of every attribute in `src` whose unbraced closure value holds
/// one of [`TOKENS`] before the next attribute begins.
fn unbraced_comparisons(src: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in src.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("=move ||") {
            let value = &rest[at + "=move ||".len()..];
            rest = value;
            if value.trim_start().starts_with('{') {
                continue;
            }
            // The value runs to the next ` name=` or ` on:…` attribute, or the line's end.
            let end = value
                .match_indices(' ')
                .map(|(i, _)| i)
                .find(|&i| {
                    let after = &value[i + 1..];
                    let name: String = after
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '_'))
                        .collect();
                    !name.is_empty()
                        && after[name.len()..].starts_with('=')
                        && !after[name.len()..].starts_with("==")
                })
                .unwrap_or(value.len());
            let expr = &value[..end];
            if TOKENS.iter().any(|t| expr.contains(t)) {
                found.push((n + 1, line.trim().to_string()));
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_check_finds_the_pager_bug_and_passes_braced_values() {
    let bug = r#"<button disabled=move || page.get() + 1 >= pages() on:click=move |_| page.update(|p| *p += 1)>"Next"</button>"#;
    assert_eq!(unbraced_comparisons(bug).len(), 1);
    for ok in [
        r#"<button disabled=move || { page.get() + 1 >= pages() } on:click=move |_| next()>"Next"</button>"#,
        r#"<button disabled=move || page.get() == 0 on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"Previous"</button>"#,
        r#"<option selected=move || current.get() == Some(i)>{c}</option>"#,
    ] {
        assert_eq!(unbraced_comparisons(ok), Vec::new(), "{ok}");
    }
}

#[test]
fn no_view_attribute_holds_an_unbraced_comparison() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 20, "found only {} source files", files.len());
    let bad: Vec<String> = files
        .iter()
        .flat_map(|f| {
            let src = std::fs::read_to_string(f).unwrap();
            unbraced_comparisons(&src)
                .into_iter()
                .map(move |(n, l)| format!("{}:{n}: {l}", f.display()))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "brace these attribute values:\n{}",
        bad.join("\n")
    );
}
