//! One screen per workflow step.

pub mod browse;
pub mod codebook;
pub mod data;
pub mod endpoint;
pub mod experiments;
pub mod locality;
pub mod projects;
pub mod results;
pub mod review;
pub mod run;

/// First `max` characters of `s`, with an ellipsis when cut.
pub fn snippet(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
