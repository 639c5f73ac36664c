//! What a host page or the bundled page mounts the app with. Depends on nothing
//! else in the app, so the state, the shell and the embed API can all read it.

use serde::Deserialize;

/// Persistence key used when the host gives none.
pub const DEFAULT_PERSISTENCE_KEY: &str = "default";

/// [`DEFAULT_PERSISTENCE_KEY`] as an owned string (a serde default).
pub fn default_key() -> String {
    DEFAULT_PERSISTENCE_KEY.to_string()
}

/// Options a host passes to `mount` (or the bundled page reads from `data-*` attributes).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MountOptions {
    /// Namespaces all stored data; two mounts with different keys never share data.
    #[serde(default = "default_key", alias = "persistence_key")]
    pub persistence_key: String,
    /// Default endpoint base URL for new projects.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Default model name for new projects.
    #[serde(default)]
    pub model: Option<String>,
    /// Light, dark, or the system's choice (`None`: the system's).
    #[serde(default)]
    pub theme: Option<Theme>,
    /// The step a project opens at (`data`, `codebook`, `endpoint`, `run`, `results`).
    #[serde(default, alias = "start_view")]
    pub start_view: Option<String>,
}

/// Colour theme of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Follow `prefers-color-scheme`.
    #[default]
    Auto,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl Theme {
    /// The `data-theme` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// Inverse of [`Theme::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Theme::Auto, Theme::Light, Theme::Dark]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions {
            persistence_key: default_key(),
            endpoint: None,
            model: None,
            theme: None,
            start_view: None,
        }
    }
}
