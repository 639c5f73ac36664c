//! The codebook: attributes to annotate, in the original Fannotate JSON format.
//!
//! The serde structs *are* the file format, so import → export gives the same JSON
//! value; fields we do not know are kept in `extra` rather than dropped.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashSet;
use unicode_normalization::UnicodeNormalization;

/// Placeholder for the text being annotated.
pub const TEXT_PLACEHOLDER: &str = "<<text>>";
/// Placeholder for the list of categories with their descriptions.
pub const CATEGORIES_PLACEHOLDER: &str = "<<categories>>";

/// A codebook as the original tool writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Codebook {
    /// Creation time as the original tool formats it (`dd/mm/yyyy hh:mm:ss`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Name of the dataset the codebook was made for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// The attributes, in display order.
    #[serde(rename = "codes", default)]
    pub attributes: Vec<Attribute>,
    /// Fields this version does not know, kept for round-trips.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What kind of value an attribute takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeKind {
    /// Exactly one of the attribute's categories.
    Categorical,
    /// Free text (summaries, extractions).
    FreeText,
    /// A type written by a newer tool; kept verbatim so it round-trips.
    Other(String),
}

impl AttributeKind {
    /// The name used in the file format.
    pub fn as_str(&self) -> &str {
        match self {
            AttributeKind::Categorical => "categorical",
            AttributeKind::FreeText => "freetext",
            AttributeKind::Other(s) => s,
        }
    }
}

impl Serialize for AttributeKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AttributeKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "categorical" => AttributeKind::Categorical,
            "freetext" => AttributeKind::FreeText,
            _ => AttributeKind::Other(s),
        })
    }
}

/// One thing to annotate about each text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    /// Unique name (also the export column name).
    #[serde(rename = "attribute")]
    pub name: String,
    /// What the attribute means, for humans.
    #[serde(default)]
    pub description: String,
    /// Categorical or free text.
    #[serde(rename = "type")]
    pub kind: AttributeKind,
    /// Prompt template with `<<text>>` and optionally `<<categories>>`.
    pub instruction: String,
    /// Categories (for free text the original tool stores one pseudo-category).
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One allowed value of a categorical attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    /// The label the model should answer with.
    #[serde(rename = "category")]
    pub name: String,
    /// When to choose it; shown to the model through `<<categories>>`.
    #[serde(default)]
    pub description: String,
    /// Optional emoji shown in the UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Category {
    /// A category with a name and description and no icon.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Category {
            name: name.into(),
            description: description.into(),
            icon: None,
            extra: Map::new(),
        }
    }
}

impl Attribute {
    /// A categorical attribute with the given categories.
    pub fn categorical(
        name: impl Into<String>,
        instruction: impl Into<String>,
        categories: Vec<Category>,
    ) -> Self {
        Attribute {
            name: name.into(),
            description: String::new(),
            kind: AttributeKind::Categorical,
            instruction: instruction.into(),
            categories,
            extra: Map::new(),
        }
    }

    /// Category names in codebook order.
    pub fn category_names(&self) -> Vec<&str> {
        self.categories.iter().map(|c| c.name.as_str()).collect()
    }

    /// The category a human-entered value (a gold column cell) names: exactly,
    /// else ignoring case, surrounding space and Unicode normal form (Excel
    /// exports of "Spam " or a decomposed "å" still count). `None` when the value
    /// is empty or names no category.
    pub fn match_label(&self, value: &str) -> Option<&str> {
        let v = value.trim();
        if v.is_empty() {
            return None;
        }
        if let Some(c) = self.categories.iter().find(|c| c.name == v) {
            return Some(&c.name);
        }
        let key = |s: &str| -> String { s.trim().nfc().collect::<String>().to_lowercase() };
        let k = key(v);
        self.categories
            .iter()
            .find(|c| key(&c.name) == k)
            .map(|c| c.name.as_str())
    }
}

/// Why a codebook cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CodebookError {
    /// The file is not valid codebook JSON.
    #[error("the codebook file is not valid: {0}")]
    Json(String),
    /// An attribute has an empty name.
    #[error("attribute {index} has no name")]
    EmptyAttributeName { index: usize },
    /// Two attributes share a name.
    #[error("two attributes are named \"{name}\"")]
    DuplicateAttribute { name: String },
    /// A category has an empty name.
    #[error("attribute \"{attribute}\": category {index} has no name")]
    EmptyCategoryName { attribute: String, index: usize },
    /// Two categories of one attribute share a name.
    #[error("attribute \"{attribute}\": two categories are named \"{category}\"")]
    DuplicateCategory { attribute: String, category: String },
    /// The instruction never inserts the text.
    #[error("attribute \"{attribute}\": the instruction must contain <<text>>")]
    MissingTextPlaceholder { attribute: String },
    /// A categorical attribute needs a choice.
    #[error("attribute \"{attribute}\": a categorical attribute needs at least two categories")]
    TooFewCategories { attribute: String },
}

impl Codebook {
    /// Parse the original tool's JSON.
    pub fn from_json(text: &str) -> Result<Self, CodebookError> {
        serde_json::from_str(text).map_err(|e| CodebookError::Json(e.to_string()))
    }

    /// Write the original tool's JSON (pretty, 4-space indent like the original).
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        self.serialize(&mut ser)
            .expect("serialising plain data to memory cannot fail");
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    /// Look an attribute up by name.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Check the rules a codebook must follow; the first problem found is returned.
    pub fn validate(&self) -> Result<(), CodebookError> {
        let mut names = HashSet::new();
        for (index, a) in self.attributes.iter().enumerate() {
            let name = a.name.trim();
            if name.is_empty() {
                return Err(CodebookError::EmptyAttributeName { index: index + 1 });
            }
            if !names.insert(name.to_string()) {
                return Err(CodebookError::DuplicateAttribute { name: name.into() });
            }
            if !a.instruction.contains(TEXT_PLACEHOLDER) {
                return Err(CodebookError::MissingTextPlaceholder {
                    attribute: name.into(),
                });
            }
            if a.kind == AttributeKind::Categorical {
                let mut cats = HashSet::new();
                for (ci, c) in a.categories.iter().enumerate() {
                    let cname = c.name.trim();
                    if cname.is_empty() {
                        return Err(CodebookError::EmptyCategoryName {
                            attribute: name.into(),
                            index: ci + 1,
                        });
                    }
                    if !cats.insert(cname.to_string()) {
                        return Err(CodebookError::DuplicateCategory {
                            attribute: name.into(),
                            category: cname.into(),
                        });
                    }
                }
                if cats.len() < 2 {
                    return Err(CodebookError::TooFewCategories {
                        attribute: name.into(),
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gold_values_match_categories_loosely_but_not_partly() {
        let a = Attribute::categorical(
            "k",
            "<<text>>",
            vec![Category::new("Spam", ""), Category::new("blåbær", "")],
        );
        assert_eq!(a.match_label("Spam"), Some("Spam"));
        assert_eq!(a.match_label(" spam "), Some("Spam"));
        assert_eq!(a.match_label("BLÅBÆR"), Some("blåbær"));
        assert_eq!(a.match_label("bla\u{30a}bær"), Some("blåbær"));
        assert_eq!(a.match_label("spammy"), None);
        assert_eq!(a.match_label("  "), None);
    }

    const FIXTURE: &str = include_str!("../../../../shared/fixtures/fannotate/codebook.json");

    #[test]
    fn original_codebook_round_trips_to_the_same_json_value() {
        let cb = Codebook::from_json(FIXTURE).unwrap();
        assert_eq!(cb.attributes.len(), 8);
        assert_eq!(cb.attributes[0].kind, AttributeKind::Categorical);
        assert_eq!(cb.attributes[7].kind, AttributeKind::FreeText);
        let original: Value = serde_json::from_str(FIXTURE).unwrap();
        let exported: Value = serde_json::from_str(&cb.to_json()).unwrap();
        assert_eq!(original, exported);
        cb.validate().unwrap();
    }

    #[test]
    fn unknown_fields_survive() {
        let text = r#"{"codes":[{"attribute":"A","type":"multilabel","instruction":"<<text>>",
            "weight":3,"categories":[{"category":"x","color":"red"}]}],"owner":"me"}"#;
        let cb = Codebook::from_json(text).unwrap();
        assert_eq!(
            cb.attributes[0].kind,
            AttributeKind::Other("multilabel".into())
        );
        let a: Value = serde_json::from_str(text).unwrap();
        let mut b: Value = serde_json::from_str(&cb.to_json()).unwrap();
        // `description` defaults to "" when absent and is then written out.
        b["codes"][0].as_object_mut().unwrap().remove("description");
        b["codes"][0]["categories"][0]
            .as_object_mut()
            .unwrap()
            .remove("description");
        assert_eq!(a, b);
    }

    #[test]
    fn large_numbers_in_unknown_fields_round_trip_exactly() {
        // Found by the codebook_import fuzz target: without exact float parsing the
        // last digit of a large number changed on every import/export.
        let text = r#"{"":3799444444444444444444444444444444444444444444444444444444444444444444444444444444}"#;
        let cb = Codebook::from_json(text).unwrap();
        assert_eq!(Codebook::from_json(&cb.to_json()).unwrap(), cb);
    }

    fn book(attrs: Vec<Attribute>) -> Codebook {
        Codebook {
            attributes: attrs,
            ..Default::default()
        }
    }

    #[test]
    fn validation_names_the_problem() {
        let two = || vec![Category::new("a", ""), Category::new("b", "")];
        let ok = Attribute::categorical("Topic", "<<categories>> <<text>>", two());
        assert_eq!(book(vec![ok.clone()]).validate(), Ok(()));

        let mut no_text = ok.clone();
        no_text.instruction = "<<categories>>".into();
        assert_eq!(
            book(vec![no_text]).validate(),
            Err(CodebookError::MissingTextPlaceholder {
                attribute: "Topic".into()
            })
        );
        assert_eq!(
            book(vec![ok.clone(), ok.clone()]).validate(),
            Err(CodebookError::DuplicateAttribute {
                name: "Topic".into()
            })
        );
        let mut one = ok.clone();
        one.categories.truncate(1);
        assert!(matches!(
            book(vec![one]).validate(),
            Err(CodebookError::TooFewCategories { .. })
        ));
        let mut dup = ok.clone();
        dup.categories[1].name = " a ".into();
        assert!(matches!(
            book(vec![dup]).validate(),
            Err(CodebookError::DuplicateCategory { .. })
        ));
        let mut empty = ok.clone();
        empty.categories[0].name = "  ".into();
        assert!(matches!(
            book(vec![empty]).validate(),
            Err(CodebookError::EmptyCategoryName { index: 1, .. })
        ));
        let mut unnamed = ok;
        unnamed.name = "".into();
        assert_eq!(
            book(vec![unnamed]).validate(),
            Err(CodebookError::EmptyAttributeName { index: 1 })
        );
    }
}
