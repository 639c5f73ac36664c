//! Rendering an attribute's instruction template into the prompt sent to a model,
//! and the output constraints an endpoint can enforce for categorical attributes.

use crate::codebook::{Attribute, AttributeKind, CATEGORIES_PLACEHOLDER, TEXT_PLACEHOLDER};
use serde_json::{json, Value};

/// Placeholder for few-shot examples.
pub const EXAMPLES_PLACEHOLDER: &str = "<<examples>>";
/// Appended where a text was cut to the maximum length.
pub const TRUNCATION_MARKER: &str = " […]";

/// Options for [`render_prompt`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromptOptions {
    /// Cut the text to at most this many characters (Unicode scalar values).
    pub max_text_chars: Option<usize>,
    /// Few-shot examples as (text, label) pairs for `<<examples>>`.
    pub examples: Vec<(String, String)>,
    /// Optional system message sent before the rendered instruction.
    pub system: Option<String>,
}

/// Who says a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Standing instructions.
    System,
    /// The request.
    User,
}

/// One chat message, serialised as the OpenAI API expects.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Message {
    /// Speaker.
    pub role: Role,
    /// Text.
    pub content: String,
}

/// The chat messages for one text: the system message (if any and not blank),
/// then the rendered instruction.
pub fn render_messages(attribute: &Attribute, text: &str, opts: &PromptOptions) -> Vec<Message> {
    let mut out = Vec::with_capacity(2);
    if let Some(sys) = opts.system.as_deref().filter(|s| !s.trim().is_empty()) {
        out.push(Message {
            role: Role::System,
            content: sys.to_string(),
        });
    }
    out.push(Message {
        role: Role::User,
        content: render_prompt(attribute, text, opts),
    });
    out
}

/// Cut `text` to at most `max` characters, never inside a UTF-8 sequence, adding
/// [`TRUNCATION_MARKER`] when anything was removed.
pub fn truncate_chars(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => text.into(),
        Some((byte, _)) => format!("{}{}", &text[..byte], TRUNCATION_MARKER).into(),
    }
}

/// The `<<categories>>` block: one line per category, `- name: description`.
pub fn categories_block(attribute: &Attribute) -> String {
    attribute
        .categories
        .iter()
        .map(|c| {
            if c.description.trim().is_empty() {
                format!("- {}", c.name)
            } else {
                format!("- {}: {}", c.name, c.description)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn examples_block(examples: &[(String, String)]) -> String {
    examples
        .iter()
        .map(|(t, l)| format!("Text: {t}\nAnswer: {l}"))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Render the attribute's instruction for one text.
///
/// Placeholders are replaced in a single left-to-right pass, so a text that itself
/// contains `<<categories>>` or `<<text>>` is inserted literally and never expanded.
pub fn render_prompt(attribute: &Attribute, text: &str, opts: &PromptOptions) -> String {
    let text = match opts.max_text_chars {
        Some(max) => truncate_chars(text, max),
        None => text.into(),
    };
    let template = attribute.instruction.as_str();
    let mut out = String::with_capacity(template.len() + text.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("<<") {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        if let Some(after) = tail.strip_prefix(TEXT_PLACEHOLDER) {
            out.push_str(&text);
            rest = after;
        } else if let Some(after) = tail.strip_prefix(CATEGORIES_PLACEHOLDER) {
            out.push_str(&categories_block(attribute));
            rest = after;
        } else if let Some(after) = tail.strip_prefix(EXAMPLES_PLACEHOLDER) {
            out.push_str(&examples_block(&opts.examples));
            rest = after;
        } else {
            out.push_str("<<");
            rest = &tail[2..];
        }
    }
    out.push_str(rest);
    out
}

/// How an endpoint can be made to answer with exactly one category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Constraint {
    /// No constraint: free decoding, parsed afterwards.
    None,
    /// vLLM `guided_choice`.
    GuidedChoice,
    /// OpenAI-style `response_format` with a JSON schema `{"label": enum}`.
    JsonSchema,
    /// llama.cpp `grammar` (GBNF).
    Grammar,
}

impl Constraint {
    /// Every constraint, for pickers.
    pub const ALL: [Constraint; 4] = [
        Constraint::None,
        Constraint::GuidedChoice,
        Constraint::JsonSchema,
        Constraint::Grammar,
    ];

    /// Stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Constraint::None => "none",
            Constraint::GuidedChoice => "guided_choice",
            Constraint::JsonSchema => "json_schema",
            Constraint::Grammar => "grammar",
        }
    }

    /// Inverse of [`Constraint::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Human description.
    pub fn label(self) -> &'static str {
        match self {
            Constraint::None => "None (free answer, parsed)",
            Constraint::GuidedChoice => "vLLM guided_choice",
            Constraint::JsonSchema => "JSON schema (response_format)",
            Constraint::Grammar => "llama.cpp grammar (GBNF)",
        }
    }

    /// Tokens an answer needs under this constraint (JSON needs room for its braces).
    pub fn min_max_tokens(self) -> u32 {
        match self {
            Constraint::JsonSchema => 48,
            _ => 8,
        }
    }
}

/// Escape a string as a GBNF double-quoted literal.
fn gbnf_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A GBNF grammar whose only sentences are the category names.
pub fn gbnf_grammar(attribute: &Attribute) -> String {
    let alts: Vec<String> = attribute
        .categories
        .iter()
        .map(|c| gbnf_literal(&c.name))
        .collect();
    format!("root ::= {}", alts.join(" | "))
}

/// A JSON schema for `{"label": <one of the categories>}`.
pub fn json_schema(attribute: &Attribute) -> Value {
    json!({
        "type": "object",
        "properties": { "label": { "type": "string", "enum": attribute.category_names() } },
        "required": ["label"],
        "additionalProperties": false
    })
}

/// The extra request-body fields that apply `constraint` for this attribute.
/// Free-text attributes are never constrained.
pub fn constraint_fields(
    attribute: &Attribute,
    constraint: Constraint,
) -> Vec<(&'static str, Value)> {
    if attribute.kind != AttributeKind::Categorical {
        return Vec::new();
    }
    match constraint {
        Constraint::None => Vec::new(),
        Constraint::GuidedChoice => vec![("guided_choice", json!(attribute.category_names()))],
        Constraint::Grammar => vec![("grammar", json!(gbnf_grammar(attribute)))],
        Constraint::JsonSchema => vec![(
            "response_format",
            json!({
                "type": "json_schema",
                "json_schema": { "name": "label", "strict": true, "schema": json_schema(attribute) }
            }),
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codebook::Category;

    fn attr() -> Attribute {
        Attribute::categorical(
            "Spam",
            "Categories:\n<<categories>>\n\nText:\n<<text>>\nAnswer:",
            vec![
                Category::new("ham", "a normal email"),
                Category::new("spam", "unsolicited bulk email"),
            ],
        )
    }

    #[test]
    fn renders_text_and_categories() {
        let p = render_prompt(&attr(), "Hello", &PromptOptions::default());
        assert_eq!(
            p,
            "Categories:\n- ham: a normal email\n- spam: unsolicited bulk email\n\nText:\nHello\nAnswer:"
        );
    }

    #[test]
    fn placeholders_inside_the_text_are_not_expanded() {
        let p = render_prompt(
            &attr(),
            "x <<categories>> <<text>> y",
            &PromptOptions::default(),
        );
        assert!(p.contains("Text:\nx <<categories>> <<text>> y\nAnswer:"));
        assert_eq!(p.matches("- ham").count(), 1);
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        let t = "æøå".repeat(10);
        let out = truncate_chars(&t, 4);
        assert_eq!(out, format!("æøåæ{TRUNCATION_MARKER}"));
        assert_eq!(truncate_chars("short", 10), "short");
        assert_eq!(truncate_chars("exact", 5), "exact");
        let opts = PromptOptions {
            max_text_chars: Some(2),
            ..Default::default()
        };
        assert!(render_prompt(&attr(), "🥰🥰🥰", &opts).contains("🥰🥰 […]"));
    }

    #[test]
    fn examples_and_unknown_markers() {
        let mut a = attr();
        a.instruction = "<<examples>>\n<<other>> <<text>>".into();
        let opts = PromptOptions {
            examples: vec![("hi".into(), "ham".into())],
            ..Default::default()
        };
        assert_eq!(
            render_prompt(&a, "t", &opts),
            "Text: hi\nAnswer: ham\n<<other>> t"
        );
    }

    #[test]
    fn system_message_comes_first_when_given() {
        let none = render_messages(&attr(), "t", &PromptOptions::default());
        assert_eq!(none.len(), 1);
        assert_eq!(none[0].role, Role::User);
        let opts = PromptOptions {
            system: Some("You label emails.".into()),
            ..Default::default()
        };
        let two = render_messages(&attr(), "t", &opts);
        assert_eq!(
            two[0],
            Message {
                role: Role::System,
                content: "You label emails.".into()
            }
        );
        assert_eq!(serde_json::to_value(&two[1]).unwrap()["role"], "user");
        let blank = PromptOptions {
            system: Some("  ".into()),
            ..Default::default()
        };
        assert_eq!(render_messages(&attr(), "t", &blank).len(), 1);
    }

    #[test]
    fn constraints() {
        let mut a = attr();
        a.categories.push(Category::new("say \"hi\"\\", ""));
        assert_eq!(
            gbnf_grammar(&a),
            r#"root ::= "ham" | "spam" | "say \"hi\"\\""#
        );
        let f = constraint_fields(&a, Constraint::GuidedChoice);
        assert_eq!(f[0].1, json!(["ham", "spam", "say \"hi\"\\"]));
        let f = constraint_fields(&a, Constraint::JsonSchema);
        assert_eq!(
            f[0].1["json_schema"]["schema"]["properties"]["label"]["enum"][1],
            "spam"
        );
        assert!(constraint_fields(&a, Constraint::None).is_empty());
        for c in Constraint::ALL {
            assert_eq!(Constraint::parse(c.as_str()), Some(c));
        }
    }
}
